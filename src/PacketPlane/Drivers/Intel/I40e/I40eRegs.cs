namespace PacketPlane.Drivers.Intel.I40e;

/// <summary>
/// X710/XL710 BAR0 registers the driver uses, with the datasheet's names (Intel Ethernet Controller
/// X710/XXV710/XL710 Datasheet, order no. 332464, rev. 3.9; see README.md in this folder). Offsets and fields are
/// cross-checked against DPDK's drivers/net/intel/i40e/base/i40e_register.h. PF registers index queues relative to
/// the PF (PF queue 0 is the function's first queue).
/// </summary>
internal static class I40eRegs
{
    // ---- global reset and firmware status ----
    public const int GLGEN_RSTAT = 0x000B8188;
    public const uint GLGEN_RSTAT_DEVSTATE_MASK = 0x3;        // 0: no reset in progress
    public const int GLNVM_ULD = 0x000B6008;
    public const uint GLNVM_ULD_CONF_CORE_DONE = 1u << 3;     // firmware finished core configuration
    public const uint GLNVM_ULD_CONF_GLOBAL_DONE = 1u << 4;
    public const int GLGEN_STAT = 0x000B612C;                 // read for posting flushes (as i40e_flush does)
    public const int PFGEN_CTRL = 0x00092400;
    public const uint PFGEN_CTRL_PFSWR = 1u << 0;             // PF software reset, self-clearing
    public const int PF_FUNC_RID = 0x0009C000;
    public const uint PF_FUNC_RID_FUNCTION_NUMBER_MASK = 0x7;
    public const int PFGEN_PORTNUM = 0x001C0480;
    public const uint PFGEN_PORTNUM_PORT_NUM_MASK = 0x3;
    public const int PFLAN_QALLOC = 0x001C0400;
    public const uint PFLAN_QALLOC_FIRSTQ_MASK = 0x7FF;
    public const int PFLAN_QALLOC_LASTQ_SHIFT = 16;
    public const uint PFLAN_QALLOC_VALID = 1u << 31;
    public const int GLLAN_RCTL_0 = 0x0012A500;               // bit 0: PXE mode cleared

    // ---- interrupts (polled driver: causes off) ----
    public const int PFINT_ICR0_ENA = 0x00038800;
    public const int PFINT_DYN_CTL0 = 0x00038480;
    public const uint PFINT_DYN_CTL0_ITR_INDX_NONE = 0x3u << 3; // no interrupt enable, no throttling index

    // ---- admin queue: send (ATQ) and receive (ARQ) rings ----
    public const int PF_ATQBAL = 0x00080000;
    public const int PF_ATQBAH = 0x00080100;
    public const int PF_ATQLEN = 0x00080200;
    public const int PF_ATQH = 0x00080300;
    public const int PF_ATQT = 0x00080400;
    public const int PF_ARQBAL = 0x00080080;
    public const int PF_ARQBAH = 0x00080180;
    public const int PF_ARQLEN = 0x00080280;
    public const int PF_ARQH = 0x00080380;
    public const int PF_ARQT = 0x00080480;
    public const uint PF_AQLEN_ENABLE = 1u << 31;
    public const uint PF_AQLEN_LEN_MASK = 0x3FF;
    public const uint PF_AQLEN_ERROR_MASK = 0x7u << 28;        // VFE, OVFL, CRIT
    public const uint PF_AQ_HEAD_MASK = 0x3FF;

    // ---- host memory cache (HMC) ----
    public const int PFHMC_SDCMD = 0x000C0000;
    public const uint PFHMC_SDCMD_PMSDWR = 1u << 31;
    public const int PFHMC_SDDATALOW = 0x000C0100;
    public const uint PFHMC_SDDATALOW_PMSDVALID = 1u << 0;
    public const uint PFHMC_SDDATALOW_PMSDTYPE_DIRECT = 1u << 1; // 0 = paged
    public const int PFHMC_SDDATALOW_PMSDBPCOUNT_SHIFT = 2;
    public const int PFHMC_SDDATAHIGH = 0x000C0200;
    public const int PFHMC_PDINV = 0x000C0300;
    public const int PFHMC_PDINV_PMPDIDX_SHIFT = 16;
    public const int GLHMC_LANTXOBJSZ = 0x000C2004;            // log2 of the TX queue context size
    public const int GLHMC_LANQMAX = 0x000C2008;
    public const int GLHMC_LANRXOBJSZ = 0x000C200C;
    public static int GLHMC_LANTXBASE(int pf) => 0x000C6200 + pf * 4; // in 512-byte units
    public static int GLHMC_LANTXCNT(int pf) => 0x000C6300 + pf * 4;
    public static int GLHMC_LANRXBASE(int pf) => 0x000C6400 + pf * 4;
    public static int GLHMC_LANRXCNT(int pf) => 0x000C6500 + pf * 4;
    public static int GLHMC_FCOEDDPBASE(int pf) => 0x000C6600 + pf * 4;
    public static int GLHMC_FCOEDDPCNT(int pf) => 0x000C6700 + pf * 4;
    public static int GLHMC_FCOEFBASE(int pf) => 0x000C6800 + pf * 4;
    public static int GLHMC_FCOEFCNT(int pf) => 0x000C6900 + pf * 4;

    // ---- LAN queues ----
    public static int QTX_ENA(int q) => 0x00100000 + q * 4;
    public static int QTX_CTL(int q) => 0x00104000 + q * 4;
    public static int QTX_TAIL(int q) => 0x00108000 + q * 4;
    public static int QTX_HEAD(int q) => 0x000E4000 + q * 4;
    public static int QRX_ENA(int q) => 0x00120000 + q * 4;
    public static int QRX_TAIL(int q) => 0x00128000 + q * 4;
    public const uint QENA_REQ = 1u << 0;
    public const uint QENA_STAT = 1u << 2;
    public const uint QTX_CTL_PF_QUEUE = 0x2;                 // PFVF_Q = PF queue
    public const int QTX_CTL_PF_INDX_SHIFT = 2;
    public static int GLLAN_TXPRE_QDIS(int block) => 0x000E6500 + block * 4; // 128 absolute queues per register
    public const uint GLLAN_TXPRE_QDIS_QINDX_MASK = 0x7FF;
    public const uint GLLAN_TXPRE_QDIS_SET_QDIS = 1u << 30;
    public const uint GLLAN_TXPRE_QDIS_CLEAR_QDIS = 1u << 31;

    // ---- RSS ----
    public static int PFQF_HKEY(int i) => 0x00244800 + i * 128;   // 13 registers: 52-byte key
    public const int HKEY_REGISTERS = 13;
    public static int PFQF_HLUT(int i) => 0x00240000 + i * 128;   // 128 registers, 4 one-byte entries each
    public const int HLUT_REGISTERS = 128;
    public static int PFQF_HENA(int i) => 0x00245900 + i * 128;   // 64-bit bitmap of hashed packet classifier types
    public const int PFQF_CTL_0 = 0x001C0AC0;
    public const uint PFQF_CTL_0_HASHLUTSIZE_512 = 1u << 16;

    // Packet classifier types (PCTYPE) for PFQF_HENA.
    public const int PCTYPE_NONF_IPV4_UDP = 31;
    public const int PCTYPE_NONF_IPV4_TCP = 33;
    public const int PCTYPE_NONF_IPV4_OTHER = 35;
    public const int PCTYPE_FRAG_IPV4 = 36;
    public const int PCTYPE_NONF_IPV6_UDP = 41;
    public const int PCTYPE_NONF_IPV6_TCP = 43;
    public const int PCTYPE_NONF_IPV6_OTHER = 45;
    public const int PCTYPE_FRAG_IPV6 = 46;

    // ---- statistics: free-running; 48-bit counters are a low register and a high one at +4 ----
    public static int GLPRT_GORCL(int port) => 0x00300000 + port * 8;
    public static int GLPRT_CRCERRS(int port) => 0x00300080 + port * 8;
    public static int GLPRT_RLEC(int port) => 0x003000A0 + port * 8;
    public static int GLPRT_RUC(int port) => 0x00300100 + port * 8;
    public static int GLPRT_ROC(int port) => 0x00300120 + port * 8;
    public static int GLPRT_UPRCL(int port) => 0x003005A0 + port * 8;
    public static int GLPRT_MPRCL(int port) => 0x003005C0 + port * 8;
    public static int GLPRT_BPRCL(int port) => 0x003005E0 + port * 8;
    public static int GLPRT_RDPC(int port) => 0x00300600 + port * 8;
    public static int GLPRT_GOTCL(int port) => 0x00300680 + port * 8;
    public static int GLPRT_UPTCL(int port) => 0x003009C0 + port * 8;
    public static int GLPRT_MPTCL(int port) => 0x003009E0 + port * 8;
    public static int GLPRT_BPTCL(int port) => 0x00300A00 + port * 8;
    public static int GLV_GORCL(int vsi) => 0x00358000 + vsi * 8;
    public static int GLV_UPRCL(int vsi) => 0x0036C000 + vsi * 8;
    public static int GLV_MPRCL(int vsi) => 0x0036CC00 + vsi * 8;
    public static int GLV_BPRCL(int vsi) => 0x0036D800 + vsi * 8;
    public static int GLV_GOTCL(int vsi) => 0x00328000 + vsi * 8;
    public static int GLV_UPTCL(int vsi) => 0x0033C000 + vsi * 8;
    public static int GLV_MPTCL(int vsi) => 0x0033CC00 + vsi * 8;
    public static int GLV_BPTCL(int vsi) => 0x0033D800 + vsi * 8;
}

/// <summary>LAN descriptor fields (receive 32-byte and transmit data descriptors).</summary>
internal static class I40eDesc
{
    // Receive write-back, qword 1 (status_error_len).
    public const ulong RXD_DD = 1UL << 0;
    public const ulong RXD_EOF = 1UL << 1;
    public const int RXD_FLTSTAT_SHIFT = 12;
    public const ulong RXD_FLTSTAT_MASK = 0x3UL << RXD_FLTSTAT_SHIFT;
    public const ulong RXD_FLTSTAT_RSS_HASH = 0x3UL << RXD_FLTSTAT_SHIFT;
    public const int RXD_ERROR_SHIFT = 19;
    public const ulong RXD_ERROR_MASK = 0xFFUL << RXD_ERROR_SHIFT;
    public const int RXD_PTYPE_SHIFT = 30;
    public const int RXD_LENGTH_SHIFT = 38;
    public const ulong RXD_LENGTH_MASK = 0x3FFFUL;

    // Transmit data descriptor, qword 1 (cmd_type_offset_bsz).
    public const ulong TXD_DTYPE_MASK = 0xF;
    public const ulong TXD_DTYPE_DESC_DONE = 0xF;             // written back when done (RS)
    public const int TXD_CMD_SHIFT = 4;
    public const ulong TXD_CMD_EOP = 0x0001;
    public const ulong TXD_CMD_RS = 0x0002;
    public const ulong TXD_CMD_ICRC = 0x0004;
    public const int TXD_BUF_SZ_SHIFT = 34;
    public const int MaxTxBuffer = (1 << 14) - 1;             // 14-bit buffer size field

    /// <summary>Ring base addresses are given to the queue context in 128-byte units.</summary>
    public const int QueueBaseUnit = 128;
}

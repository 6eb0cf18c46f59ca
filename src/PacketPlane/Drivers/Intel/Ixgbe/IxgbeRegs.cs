namespace PacketPlane.Drivers.Intel.Ixgbe;

/// <summary>
/// 82599 BAR0 registers and bits the driver uses, with the datasheet's names (Intel 82599 10 GbE Controller
/// Datasheet rev. 3.3, see README.md in this folder). Offsets and bit positions are cross-checked against DPDK's
/// drivers/net/intel/ixgbe/base/ixgbe_type.h and ixy's src/driver/ixgbe_type.h. Register descriptions are in the
/// datasheet's chapter 8.2.3; the family is given per group below.
/// </summary>
internal static class IxgbeRegs
{
    // ---- 8.2.3.1 general control ----
    public const int CTRL = 0x00000;
    public const uint CTRL_LNK_RST = 1u << 3;   // link reset
    public const uint CTRL_RST = 1u << 26;      // device (software) reset, self-clearing
    public const uint CTRL_RST_MASK = CTRL_LNK_RST | CTRL_RST;
    public const int STATUS = 0x00008;          // read-only
    public const int CTRL_EXT = 0x00018;
    public const uint CTRL_EXT_NS_DIS = 1u << 16;   // no-snoop disable; 4.6.7 asks for it
    public const uint CTRL_EXT_DRV_LOAD = 1u << 28; // tells firmware a driver owns the port

    // ---- 8.2.3.2 EEPROM/flash ----
    public const int EEC = 0x10010;
    public const uint EEC_ARD = 1u << 9;        // EEPROM auto-read done

    // ---- 8.2.3.5 interrupts ----
    public const int EICR = 0x00800;
    public const int EIMS = 0x00880;
    public const int EIMC = 0x00888;            // write 1 to mask (clear EIMS bits)
    public const uint IRQ_CLEAR_MASK = 0xFFFFFFFF;

    // ---- 8.2.3.8 receive DMA ----
    public static int RDBAL(int q) => 0x01000 + q * 0x40;
    public static int RDBAH(int q) => 0x01004 + q * 0x40;
    public static int RDLEN(int q) => 0x01008 + q * 0x40;
    public static int RDH(int q) => 0x01010 + q * 0x40;
    public static int RDT(int q) => 0x01018 + q * 0x40;
    public static int RXDCTL(int q) => 0x01028 + q * 0x40;
    public const uint RXDCTL_ENABLE = 1u << 25; // reads 1 only once the queue is really enabled
    public static int SRRCTL(int q) => 0x02100 + q * 4;  // queues 0-15
    public const uint SRRCTL_BSIZEPKT_MASK = 0x7F;       // packet buffer size in 1 KiB units
    public const int SRRCTL_BSIZEPKT_SHIFT = 10;         // bytes >> 10
    public const uint SRRCTL_DESCTYPE_MASK = 0x0E000000;
    public const uint SRRCTL_DESCTYPE_ADV_ONEBUF = 0x02000000;
    public const uint SRRCTL_DROP_EN = 1u << 28;
    public static int DCA_RXCTRL(int q) => 0x02200 + q * 4; // queues 0-15
    public const uint DCA_RXCTRL_BIT12 = 1u << 12;          // reserved, resets to 1, 4.6.7 wants it 0
    public const int RDRXCTL = 0x02F00;
    public const uint RDRXCTL_CRCSTRIP = 1u << 1;
    public const uint RDRXCTL_DMAIDONE = 1u << 3;           // DMA init done (read-only)
    public const uint RDRXCTL_RSCFRSTSIZE = 0x003E0000;     // 4.6.7: must be cleared
    public static int RXPBSIZE(int tc) => 0x03C00 + tc * 4;
    public const uint RXPBSIZE_128KB = 0x00020000;
    public const int RXCTRL = 0x03000;
    public const uint RXCTRL_RXEN = 1u << 0;

    // ---- 8.2.3.7 receive filters, RSS ----
    public const int RXCSUM = 0x05000;
    public const uint RXCSUM_PCSD = 1u << 13;   // report the RSS hash instead of the fragment checksum
    public const int FCTRL = 0x05080;
    public const uint FCTRL_MPE = 1u << 8;      // multicast promiscuous
    public const uint FCTRL_UPE = 1u << 9;      // unicast promiscuous
    public const uint FCTRL_BAM = 1u << 10;     // accept broadcast
    public static int RAL(int i) => 0x05400 + i * 8;   // entries 0-15
    public static int RAH(int i) => 0x05404 + i * 8;
    public const uint RAH_AV = 1u << 31;        // address valid
    public const int MRQC = 0x05818;
    public const uint MRQC_RSSEN = 0x1;         // MRQE = 0001b: RSS only
    public const uint MRQC_RSS_FIELD_IPV4_TCP = 0x00010000;
    public const uint MRQC_RSS_FIELD_IPV4 = 0x00020000;
    public const uint MRQC_RSS_FIELD_IPV6 = 0x00100000;
    public const uint MRQC_RSS_FIELD_IPV6_TCP = 0x00200000;
    public const uint MRQC_RSS_FIELD_IPV4_UDP = 0x00400000;
    public const uint MRQC_RSS_FIELD_IPV6_UDP = 0x00800000;
    public static int RETA(int i) => 0x05C00 + i * 4;  // 32 registers, 4 one-byte entries each
    public const int RETA_ENTRIES = 128;
    public static int RSSRK(int i) => 0x05C80 + i * 4; // 10 registers: the 40-byte key, byte 0 in bits 7:0
    public const int RSS_KEY_SIZE = 40;

    // ---- 8.2.3.9 transmit ----
    public const int DMATXCTL = 0x04A80;
    public const uint DMATXCTL_TE = 1u << 0;    // transmit enable
    public const int RTTDCS = 0x04900;
    public const uint RTTDCS_ARBDIS = 1u << 6;  // DCB arbiter disable
    public const int DTXMXSZRQ = 0x08100;
    public static int TDBAL(int q) => 0x06000 + q * 0x40;
    public static int TDBAH(int q) => 0x06004 + q * 0x40;
    public static int TDLEN(int q) => 0x06008 + q * 0x40;
    public static int TDH(int q) => 0x06010 + q * 0x40;
    public static int TDT(int q) => 0x06018 + q * 0x40;
    public static int TXDCTL(int q) => 0x06028 + q * 0x40;
    public const uint TXDCTL_ENABLE = 1u << 25;
    public const int TXDCTL_PTHRESH_SHIFT = 0;  // 6:0 prefetch threshold
    public const int TXDCTL_HTHRESH_SHIFT = 8;  // 14:8 host threshold
    public const int TXDCTL_WTHRESH_SHIFT = 16; // 22:16 write-back threshold
    public static int TXPBSIZE(int tc) => 0x0CC00 + tc * 4;
    public const uint TXPBSIZE_40KB = 0x0000A000;

    // ---- 8.2.3.22 MAC ----
    public const int HLREG0 = 0x04240;
    public const uint HLREG0_TXCRCEN = 1u << 0;
    public const uint HLREG0_RXCRCSTRP = 1u << 1;
    public const uint HLREG0_JUMBOEN = 1u << 2;
    public const uint HLREG0_TXPADEN = 1u << 10;
    public const uint HLREG0_LPBK = 1u << 15;   // MAC loopback: transmitted frames come back on receive
    public const int MAXFRS = 0x04268;
    public const int MAXFRS_MFS_SHIFT = 16;     // 31:16 max frame size
    public const int AUTOC = 0x042A0;
    public const uint AUTOC_FLU = 1u << 0;      // force link up
    public const uint AUTOC_AN_RESTART = 1u << 12; // self-clearing
    public const int AUTOC_LMS_SHIFT = 13;
    public const uint AUTOC_LMS_MASK = 0x7u << AUTOC_LMS_SHIFT;
    public const uint AUTOC_LMS_10G_LINK_NO_AN = 0x1u << AUTOC_LMS_SHIFT;
    public const uint AUTOC_LMS_10G_SERIAL = 0x3u << AUTOC_LMS_SHIFT;
    public const int LINKS = 0x042A4;           // read-only
    public const uint LINKS_UP = 1u << 30;
    public const uint LINKS_SPEED_MASK = 0x3u << 28;
    public const uint LINKS_SPEED_10G = 0x3u << 28;
    public const uint LINKS_SPEED_1G = 0x2u << 28;
    public const uint LINKS_SPEED_100 = 0x1u << 28;
    public const int AUTOC2 = 0x042A8;
    public const uint AUTOC2_10G_SERIAL_PMA_PMD_MASK = 0x3u << 16;
    public const uint AUTOC2_10G_SFI = 0x2u << 16;

    // ---- 8.2.3.10 DCB / queue statistic mapping ----
    public static int RQSMR(int i) => 0x02300 + i * 4; // 32 registers, 4 RX queues each, 4-bit counter index per byte
    public static int TQSM(int i) => 0x08600 + i * 4;  // 32 registers, 4 TX queues each

    // ---- 8.2.3.23 statistics (clear on read) ----
    public const int CRCERRS = 0x04000;
    public const int ILLERRC = 0x04004;
    public const int ERRBC = 0x04008;
    public static int MPC(int i) => 0x03FA0 + i * 4;   // 8 packet buffers
    public const int RLEC = 0x04040;
    public const int GPRC = 0x04074;
    public const int BPRC = 0x04078;
    public const int MPRC = 0x0407C;
    public const int GPTC = 0x04080;
    public const int GORCL = 0x04088;
    public const int GORCH = 0x0408C;           // 36-bit counters: low 32 bits, high 4 bits
    public const int GOTCL = 0x04090;
    public const int GOTCH = 0x04094;
    public const int RUC = 0x040A4;
    public const int ROC = 0x040AC;
    public const int RJC = 0x040B0;
    public const int TORL = 0x040C0;
    public const int TORH = 0x040C4;
    public const int TPR = 0x040D0;
    public const int TPT = 0x040D4;
    public const int MPTC = 0x040F0;
    public const int BPTC = 0x040F4;
    public static int QPRC(int i) => 0x01030 + i * 0x40;   // 16 counters
    public static int QBRC_L(int i) => 0x01034 + i * 0x40;
    public static int QBRC_H(int i) => 0x01038 + i * 0x40;
    public static int QPRDC(int i) => 0x01430 + i * 0x40;
    public static int QPTC(int i) => 0x06030 + i * 0x40;
    public static int QBTC_L(int i) => 0x08700 + i * 8;
    public static int QBTC_H(int i) => 0x08704 + i * 8;
    public const int QUEUE_STAT_COUNTERS = 16;
}

/// <summary>Advanced descriptor bits (datasheet 7.1.6 receive, 7.2.3.2.4 transmit).</summary>
internal static class IxgbeDesc
{
    // Receive write-back, upper dword "status_error" (7.1.6.2).
    public const uint RXD_STAT_DD = 1u << 0;
    public const uint RXD_STAT_EOP = 1u << 1;
    public const uint RXDADV_ERR_MASK = 0xFFF00000;
    // Receive write-back, lower dword "pkt_info" (7.1.6.2).
    public const uint RXDADV_RSSTYPE_MASK = 0xF;
    public const uint RXDADV_PKTTYPE_IPV4 = 0x010;
    public const uint RXDADV_PKTTYPE_IPV4_EX = 0x020;
    public const uint RXDADV_PKTTYPE_IPV6 = 0x040;
    public const uint RXDADV_PKTTYPE_IPV6_EX = 0x080;
    public const uint RXDADV_PKTTYPE_TCP = 0x100;
    public const uint RXDADV_PKTTYPE_UDP = 0x200;
    public const uint RXDADV_PKTTYPE_SCTP = 0x400;

    // Transmit data descriptor cmd_type_len (7.2.3.2.4).
    public const uint TXD_DTYP_DATA = 0x3u << 20;
    public const uint TXD_CMD_EOP = 1u << 24;
    public const uint TXD_CMD_IFCS = 1u << 25;
    public const uint TXD_CMD_RS = 1u << 27;
    public const uint TXD_CMD_DEXT = 1u << 29;
    public const int TXD_PAYLEN_SHIFT = 14;     // olinfo_status bits 31:14
    public const uint TXD_STAT_DD = 1u << 0;    // write-back, in the olinfo_status dword
    public const int MaxTxFrame = (1 << 14) - 1; // cmd_type_len DTALEN is 16 bits, PAYLEN 18; one buffer holds < 16 KiB
}

using PacketPlane.Drivers.AfXdp;
using Xunit;

namespace PacketPlane.Tests.Drivers.AfXdp;

/// <summary>
/// The embedded program against the bytes clang emits for native/xsk_redirect.c (as listed in native/README.md;
/// the integration test XskRedirectProgramTests recompiles the source and compares when clang is present).
/// </summary>
public class XskRedirectProgramEncodingTests
{
    [Fact]
    public void Instructions_are_the_five_clang_emits_with_the_map_fd_in_the_load()
    {
        ulong[] words = XskRedirectProgram.Encode(XskRedirectProgram.Build(7));
        Assert.Equal(
        [
            0x0000000000101261UL, // r2 = *(u32 *)(r1 + 16)
            0x0000000700001118UL, // r1 = map fd 7 (src_reg BPF_PSEUDO_MAP_FD)
            0x0000000000000000UL,
            0x00000002000003b7UL, // r3 = XDP_PASS
            0x0000003300000085UL, // call bpf_redirect_map
            0x0000000000000095UL, // exit
        ], words);
        Assert.Equal(XskRedirectProgram.MapLoadIndex, 1);
    }
}

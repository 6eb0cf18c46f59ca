using System;
using System.Diagnostics;
using PacketPlane.Ethdev;
using PacketPlane.IntegrationTests.Infrastructure;
using PacketPlane.Memory;
using Xunit;

namespace PacketPlane.IntegrationTests.Pci;

/// <summary>Sends test frames on one port and checks them byte for byte as they arrive on another (or the same, in loopback).</summary>
internal static class HardwareTraffic
{
    public static int SendAndReceive(EthDev tx, EthDev rx, MbufPool pool, int count, int size)
    {
        var outgoing = new Packet[32];
        var incoming = new Packet[64];
        var expected = new byte[size];
        int sent = 0, received = 0;
        var sw = Stopwatch.StartNew();
        while (received < count && sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (sent < count && sent - received < 512)
            {
                int want = Math.Min(32, count - sent);
                Span<Packet> b = outgoing.AsSpan(0, want);
                if (pool.AllocBulk(b) == want)
                {
                    for (int i = 0; i < want; i++)
                    {
                        b[i].TryAppend(size);
                        TestFrames.Build(b[i].Data, sent + i, size, seed: 5);
                    }
                    int done = 0;
                    while (done < want)
                        done += tx.TxBurst(0, b[done..]);
                    sent += want;
                }
            }
            int n = rx.RxBurst(0, incoming);
            for (int i = 0; i < n; i++)
            {
                TestFrames.Build(expected, received, size, seed: 5);
                Assert.True(incoming[i].Data.SequenceEqual(expected), $"frame {received} differs");
                received++;
            }
            Packet.FreeBulk(incoming.AsSpan(0, n));
        }
        return received;
    }
}

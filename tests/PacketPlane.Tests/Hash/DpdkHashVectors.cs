using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace PacketPlane.Tests.Hash;

/// <summary>
/// Known answers of DPDK 22.11's own rte_jhash, rte_jhash_2hashes, rte_jhash_32b, rte_jhash_{3,2,1}words and
/// rte_hash_crc, produced by compiling <see cref="CSource"/> against /usr/include/dpdk (Debian libdpdk-dev) with
/// gcc: <c>gcc -O2 $(pkg-config --cflags libdpdk) jv.c -o jv -lrte_eal &amp;&amp; ./jv</c>. The unit tests check
/// these stored answers; PacketPlane.IntegrationTests recompiles the program at test time and checks its fresh
/// output too.
/// </summary>
public static class DpdkHashVectors
{
    /// <summary>The C program; key byte i is (i * 37 + 11) mod 256.</summary>
    public const string CSource = """
#include <stdio.h>
#include <stdint.h>
#include <rte_jhash.h>
#include <rte_hash_crc.h>
int main(void)
{
	uint8_t key[64];
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 37 + 11);
	for (uint32_t len = 0; len <= 64; len++) {
		uint32_t pc = 0x12345678, pb = 0x9abcdef0;
		rte_jhash_2hashes(key, len, &pc, &pb);
		printf("%u %08x %08x %08x %08x %08x\n", len, rte_jhash(key, len, 0), rte_jhash(key, len, 0xdeadbeef),
		       pc, pb, rte_hash_crc(key, len, 0xffffffff));
	}
	printf("32b %08x\n", rte_jhash_32b((const uint32_t *)key, 16, 7));
	printf("words %08x %08x %08x\n", rte_jhash_3words(1, 2, 3, 4), rte_jhash_2words(5, 6, 7), rte_jhash_1word(8, 9));
	return 0;
}
""";

    /// <summary>Its output: per length 0..64 "len jhash(0) jhash(0xdeadbeef) 2hashes.pc 2hashes.pb crc(0xffffffff)", then 32b and words.</summary>
    public static readonly string[] Output =
    [
        "0 deadbeef bd5b7dde 8b9ef457 f0e21567 ffffffff",
        "1 b9c0f036 6bc22f88 1dc46586 75ec7369 340b0795",
        "2 76ccdd71 52e33806 34592ed3 afbadad9 978eaabd",
        "3 a71025c3 72f1b201 6d33bbf7 420b8ddc 697e7e7f",
        "4 44e1a72e d3d98aa8 65fbce77 3cf58e0e 35986a62",
        "5 cd53084d 6924dfcb 4d571503 403a9f36 4c73bbcc",
        "6 16055da4 905e7783 9bb77d13 11466708 8a952b74",
        "7 4f96845f 07c6fe51 02a436b1 163611a3 2d0a25ef",
        "8 39c60a25 aff3fa94 9768d202 dadbf71b 1176213c",
        "9 a68c01f8 0680c497 9fa7a759 778e2cfd 5e024a05",
        "10 98b8e7c6 fdebbe80 3fca7eb1 310bb2d1 ee53944a",
        "11 37d9d710 b603dc2d 5b12275e d64f423e e4c77ece",
        "12 387958f9 e7509eae e64ce24c 68bbcf56 2c619bcc",
        "13 0d543670 43c667de 53077ce1 58802193 99a5caa0",
        "14 c23082d0 7f0fd8e4 45328bab bdb90ad1 0ca177a6",
        "15 3eb394f6 6f32ee5c d4c29983 09381431 66d3b755",
        "16 7f4b8ae7 d56492fe a61355d9 e5dfd9ab 72f0b321",
        "17 e92a9ccf 3b38e543 b8f5b705 cdf4b6b7 1a088c86",
        "18 dd3cdd0e 7ae97b74 ecf45f2a 35cb5368 26bbef64",
        "19 a78188f7 8578577c 3bd161f2 75592e0e 31c01e28",
        "20 c84fb716 f0ee3029 b8c84cf7 94a19f41 023a18f3",
        "21 d7115f5f 3cd05f25 36c49277 48433ec9 5d1f32a7",
        "22 8252ac1a 9725e896 6a917f02 a21afb1d a1189e0f",
        "23 63d5873f e406de52 71949350 c95f2444 16e3b6c7",
        "24 2d9723a7 a6fc5c3a cd49fe5b 8bd3c664 ea0cc46d",
        "25 43bd1aa6 13f017a8 997a41c2 307e2ac9 4fa21bf9",
        "26 11c19254 6dcc7f92 cdd4949d 2efb9f61 a301fbcb",
        "27 58218f52 914f29ec 8804ebe9 e73af745 2602e613",
        "28 8546eefb 866c4619 f05afc33 9a6636b0 117d29ff",
        "29 c461b8d2 c4bb54dd fa9cf1aa a6339861 69f88dfc",
        "30 522c3eba ec91a3ce 0404a291 d3a4a720 c3e4de49",
        "31 940b7aa0 c4d1509a cbfeab9b 1acea6da aaa732cf",
        "32 0636a5d3 d8fa090c 6bfde7ed 727a7df6 39636142",
        "33 7226434e 7fb8f9d5 3a822f26 ee94d213 9bbb10b7",
        "34 bdfb3b50 f9b50cad c7f36e2d 0f47ca79 b5974c99",
        "35 03ae06c5 09a011c1 b4e6b770 f96bb50d 2c30cbfe",
        "36 b1bfaf9f 33ea8224 37ce9d96 bc9a1eda 24860fce",
        "37 8ed39ebc 2f8b16da 7292d347 83b88a63 01216a79",
        "38 2096ef5e e112638c 12c96899 65d35dc2 af77aad6",
        "39 1d9fe8cd 5617efb8 47a4ad1c 3586d01e 0f99915d",
        "40 4e4e072c fcae42c2 ba9ff5bc ee8fb417 e0310510",
        "41 c87b03e8 f01eb8f2 1dab970d 0e152f1e d03de435",
        "42 25f864d8 876f4d5f 4bf4f457 e4f57423 7c7557f3",
        "43 227c5213 d2e6151e bfa4b94f 870ff8a1 4f34626a",
        "44 e9e252e5 e407c126 2857a5fa 60d72997 aa2be273",
        "45 f3db79d8 b0e3d4be 28898b29 83c420c5 d76e7b92",
        "46 dbeb2c6c 3f7d2d00 da4930f7 2837e5ea bcf11633",
        "47 f0a702fd 52195c0d 410af088 f5c39bf0 6371ba99",
        "48 b929146a 3845226a 2c96256f df5dff84 1f0b5022",
        "49 797ba39c 346f35e7 b3cfd7bc d2bf2a62 ab7e3137",
        "50 a6bde9bc 5baed2d7 55994e76 ede1f206 c43fddb5",
        "51 d5f101bb 90fcd28d bb232512 cdbb4c71 f3aa50a8",
        "52 8220f95c 23e64c5c 874661d7 17edb931 2245fc63",
        "53 4edf5285 0dcfb758 e9f558ba 2bf67663 ae512236",
        "54 c5158bbd 3b297495 3f410a7d bdb9fee9 63631aad",
        "55 90bc857e 0a31018a 63fc941c 6fe9617c b661a008",
        "56 6e18b73a 28624fc9 72305cb7 61bedf94 d579e93d",
        "57 b93d1ae3 984179fb 5b353f9e d6958caa bcf301a1",
        "58 a90d2ec0 5c669c90 d3b35420 3fd00ca2 9b3e80d7",
        "59 52f6f2ff 1f73ff9f de471e10 78b91db4 d96c6471",
        "60 67730a80 bad98913 278c7c9a 22abec0d f0b9378a",
        "61 50a965e7 eb43cc4a 2d925924 e0dbcf16 8f3bbc55",
        "62 f379557b 246c240c 047d9545 cd081819 facbdb08",
        "63 8fb07f82 6a86ada7 8408cf10 0bd39233 78481017",
        "64 e7d0352d 3451c442 dcacfe2c 15ff14f5 c2f082a2",
        "32b ca636505",
        "words 8103143f 3a0574eb c766c6db",
    ];

    public static byte[] Key() => Enumerable.Range(0, 64).Select(i => (byte)(i * 37 + 11)).ToArray();

    public readonly record struct LengthVector(int Length, uint Jhash0, uint JhashSeeded, uint TwoHashesPrimary, uint TwoHashesSecondary, uint Crc);

    public static IEnumerable<LengthVector> Parse(IEnumerable<string> output)
    {
        foreach (string line in output.Where(l => l.Split(' ')[0].All(char.IsDigit)))
        {
            string[] f = line.Split(' ');
            yield return new LengthVector(int.Parse(f[0], CultureInfo.InvariantCulture), Hex(f[1]), Hex(f[2]), Hex(f[3]), Hex(f[4]), Hex(f[5]));
        }
    }

    public static uint Hex(string s) => uint.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}

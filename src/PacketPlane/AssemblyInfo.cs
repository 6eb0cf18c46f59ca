using System.Runtime.CompilerServices;

// Packet buffers, rings and tables are written before they are read; zeroing every stackalloc
// on the datapath would cost cycles for nothing.
[module: SkipLocalsInit]

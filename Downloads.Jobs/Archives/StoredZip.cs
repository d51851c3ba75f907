using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Downloads.Jobs.Archives;

/// <summary>One entry of a <see cref="StoredZip"/>: its name and the exact number of bytes its source will give.</summary>
public sealed record ZipEntrySource(string Name, long Size);

/// <summary>
/// Writes a ZIP of stored (not recompressed) entries as a stream, one entry after the other, holding nothing but a
/// copy buffer and one CRC per entry. Sizes are known up front, so the archive's length is too
/// (<see cref="LengthOf"/>); CRC-32s are not, so each entry has a data descriptor (flag bit 3) after its bytes.
/// ZIP64 records are written where a size or offset does not fit in 32 bits (APPNOTE 6.3.10, 4.3.9, 4.5.3).
/// </summary>
public static class StoredZip
{
    /// <summary>Sizes and offsets from here on need ZIP64 fields.</summary>
    public const long Zip64Threshold = uint.MaxValue;

    private const int LocalHeaderLength = 30;
    private const int CentralHeaderLength = 46;
    private const int Zip64LocalExtraLength = 4 + 16;
    private const int DescriptorLength = 16;
    private const int Zip64DescriptorLength = 24;
    private const int Zip64EndLength = 56;
    private const int Zip64LocatorLength = 20;
    private const int EndLength = 22;
    private const ushort DataDescriptorFlag = 0x0008;
    private const ushort Version20 = 20;
    private const ushort Version45 = 45;
    private const int CopyBufferLength = 64 * 1024;

    /// <summary>The exact length of the archive <see cref="WriteAsync"/> writes for <paramref name="entries"/>.</summary>
    public static long LengthOf(IReadOnlyList<ZipEntrySource> entries, long zip64Threshold = Zip64Threshold)
    {
        var layout = new Layout(zip64Threshold);
        foreach (var entry in entries)
        {
            layout.Add(entry);
        }

        return layout.TotalLength();
    }

    /// <summary>
    /// Writes the archive to <paramref name="output"/>, reading the bytes of entry i from <paramref name="open"/>(i). A source
    /// that gives more or fewer bytes than its entry's size stops the archive with an <see cref="InvalidDataException"/>
    /// before any byte beyond the announced length is written.
    /// </summary>
    public static async Task WriteAsync(
        Stream output,
        IReadOnlyList<ZipEntrySource> entries,
        Func<int, CancellationToken, Task<Stream>> open,
        DateTimeOffset modified,
        CancellationToken cancellationToken,
        long zip64Threshold = Zip64Threshold)
    {
        var (dosTime, dosDate) = DosDateTime(modified);
        var layout = new Layout(zip64Threshold);
        var placed = new Placed[entries.Count];
        var crcs = new uint[entries.Count];
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferLength);
        try
        {
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                placed[i] = layout.Add(entry);
                await output.WriteAsync(LocalHeader(placed[i], dosTime, dosDate), cancellationToken);
                await using (var source = await open(i, cancellationToken))
                {
                    crcs[i] = await CopyAsync(source, output, entry, buffer, cancellationToken);
                }

                await output.WriteAsync(Descriptor(placed[i], crcs[i]), cancellationToken);
            }

            for (var i = 0; i < entries.Count; i++)
            {
                await output.WriteAsync(CentralHeader(placed[i], crcs[i], dosTime, dosDate), cancellationToken);
            }

            await output.WriteAsync(End(layout), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<uint> CopyAsync(Stream source, Stream output, ZipEntrySource entry, byte[] buffer, CancellationToken cancellationToken)
    {
        var crc = new Crc32();
        var remaining = entry.Size;
        while (remaining > 0)
        {
            var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken);
            if (read == 0)
            {
                throw new InvalidDataException($"{entry.Name} ended {remaining} bytes short of its {entry.Size} bytes.");
            }

            crc.Append(buffer.AsSpan(0, read));
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            remaining -= read;
        }

        if (await source.ReadAsync(buffer.AsMemory(0, 1), cancellationToken) > 0)
        {
            throw new InvalidDataException($"{entry.Name} has more than its {entry.Size} bytes.");
        }

        return crc.GetCurrentHashAsUInt32();
    }

    private static byte[] LocalHeader(Placed placed, ushort dosTime, ushort dosDate)
    {
        var name = placed.Name;
        var header = new byte[LocalHeaderLength + name.Length + (placed.Zip64Sizes ? Zip64LocalExtraLength : 0)];
        var w = new Writer(header);
        w.U32(0x04034b50);
        w.U16(placed.Zip64Sizes ? Version45 : Version20);
        w.U16(DataDescriptorFlag);
        w.U16(0); // stored
        w.U16(dosTime);
        w.U16(dosDate);
        // With a data descriptor the CRC and sizes follow the data; ZIP64 marks them as in its extra field.
        w.U32(0);
        w.U32(placed.Zip64Sizes ? uint.MaxValue : 0);
        w.U32(placed.Zip64Sizes ? uint.MaxValue : 0);
        w.U16((ushort)name.Length);
        w.U16((ushort)(placed.Zip64Sizes ? Zip64LocalExtraLength : 0));
        w.Bytes(name);
        if (placed.Zip64Sizes)
        {
            w.U16(0x0001);
            w.U16(16);
            w.U64(0);
            w.U64(0);
        }

        return header;
    }

    private static byte[] Descriptor(Placed placed, uint crc)
    {
        var descriptor = new byte[placed.Zip64Sizes ? Zip64DescriptorLength : DescriptorLength];
        var w = new Writer(descriptor);
        w.U32(0x08074b50);
        w.U32(crc);
        if (placed.Zip64Sizes)
        {
            w.U64((ulong)placed.Size);
            w.U64((ulong)placed.Size);
        }
        else
        {
            w.U32((uint)placed.Size);
            w.U32((uint)placed.Size);
        }

        return descriptor;
    }

    private static byte[] CentralHeader(Placed placed, uint crc, ushort dosTime, ushort dosDate)
    {
        var name = placed.Name;
        var extraLength = placed.CentralExtraLength;
        var header = new byte[CentralHeaderLength + name.Length + extraLength];
        var w = new Writer(header);
        var version = extraLength > 0 ? Version45 : Version20;
        w.U32(0x02014b50);
        w.U16(version); // made by: MS-DOS
        w.U16(version);
        w.U16(DataDescriptorFlag);
        w.U16(0);
        w.U16(dosTime);
        w.U16(dosDate);
        w.U32(crc);
        w.U32(placed.Zip64Sizes ? uint.MaxValue : (uint)placed.Size);
        w.U32(placed.Zip64Sizes ? uint.MaxValue : (uint)placed.Size);
        w.U16((ushort)name.Length);
        w.U16((ushort)extraLength);
        w.U16(0); // comment
        w.U16(0); // disk
        w.U16(0); // internal attributes
        w.U32(0); // external attributes
        w.U32(placed.Zip64Offset ? uint.MaxValue : (uint)placed.Offset);
        w.Bytes(name);
        if (extraLength > 0)
        {
            // Only the fields whose 32-bit slot says 0xFFFFFFFF, in this order (APPNOTE 4.5.3).
            w.U16(0x0001);
            w.U16((ushort)(extraLength - 4));
            if (placed.Zip64Sizes)
            {
                w.U64((ulong)placed.Size);
                w.U64((ulong)placed.Size);
            }

            if (placed.Zip64Offset)
            {
                w.U64((ulong)placed.Offset);
            }
        }

        return header;
    }

    private static byte[] End(Layout layout)
    {
        var zip64 = layout.NeedsZip64End;
        var end = new byte[(zip64 ? Zip64EndLength + Zip64LocatorLength : 0) + EndLength];
        var w = new Writer(end);
        if (zip64)
        {
            w.U32(0x06064b50);
            w.U64(Zip64EndLength - 12);
            w.U16(Version45);
            w.U16(Version45);
            w.U32(0);
            w.U32(0);
            w.U64((ulong)layout.Count);
            w.U64((ulong)layout.Count);
            w.U64((ulong)layout.CentralLength);
            w.U64((ulong)layout.CentralOffset);

            w.U32(0x07064b50);
            w.U32(0);
            w.U64((ulong)(layout.CentralOffset + layout.CentralLength));
            w.U32(1);
        }

        w.U32(0x06054b50);
        w.U16(0);
        w.U16(0);
        w.U16((ushort)Math.Min(layout.Count, ushort.MaxValue));
        w.U16((ushort)Math.Min(layout.Count, ushort.MaxValue));
        w.U32(layout.CentralLength >= layout.Threshold ? uint.MaxValue : (uint)layout.CentralLength);
        w.U32(layout.CentralOffset >= layout.Threshold ? uint.MaxValue : (uint)layout.CentralOffset);
        w.U16(0);
        return end;
    }

    // ZIP dates are local MS-DOS times from 1980 at two-second precision; UTC is the only sensible "local" for a service.
    private static (ushort Time, ushort Date) DosDateTime(DateTimeOffset modified)
    {
        var t = modified.UtcDateTime;
        if (t.Year < 1980)
        {
            return (0, (1 << 5) | 1);
        }

        return ((ushort)((t.Hour << 11) | (t.Minute << 5) | (t.Second / 2)), (ushort)(((t.Year - 1980) << 9) | (t.Month << 5) | t.Day));
    }

    /// <summary>An entry at its place in the archive.</summary>
    private sealed record Placed(byte[] Name, long Size, long Offset, bool Zip64Sizes, bool Zip64Offset)
    {
        public int CentralExtraLength => Zip64Sizes || Zip64Offset ? 4 + (Zip64Sizes ? 16 : 0) + (Zip64Offset ? 8 : 0) : 0;
    }

    /// <summary>Where each entry goes: the one computation behind both the length and the bytes.</summary>
    private sealed class Layout(long threshold)
    {
        private long _localEnd;

        public long Threshold => threshold;

        public int Count { get; private set; }

        public long CentralOffset => _localEnd;

        public long CentralLength { get; private set; }

        private bool AnyZip64 { get; set; }

        public bool NeedsZip64End =>
            AnyZip64 || Count >= ushort.MaxValue || CentralOffset >= threshold || CentralLength >= threshold;

        public Placed Add(ZipEntrySource entry)
        {
            var name = Encoding.UTF8.GetBytes(entry.Name);
            var placed = new Placed(name, entry.Size, _localEnd, entry.Size >= threshold, _localEnd >= threshold);
            _localEnd += LocalHeaderLength + name.Length + (placed.Zip64Sizes ? Zip64LocalExtraLength : 0)
                + entry.Size
                + (placed.Zip64Sizes ? Zip64DescriptorLength : DescriptorLength);
            CentralLength += CentralHeaderLength + name.Length + placed.CentralExtraLength;
            AnyZip64 |= placed.CentralExtraLength > 0;
            Count++;
            return placed;
        }

        public long TotalLength() =>
            CentralOffset + CentralLength + (NeedsZip64End ? Zip64EndLength + Zip64LocatorLength : 0) + StoredZip.EndLength;
    }

    /// <summary>Little-endian fields into a header buffer.</summary>
    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        private int _at;

        public void U16(ushort value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer[_at..], value);
            _at += 2;
        }

        public void U32(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_at..], value);
            _at += 4;
        }

        public void U64(ulong value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer[_at..], value);
            _at += 8;
        }

        public void Bytes(ReadOnlySpan<byte> value)
        {
            value.CopyTo(_buffer[_at..]);
            _at += value.Length;
        }
    }
}

using Amazon.S3.Model;

namespace Downloads.Jobs.Storage;

/// <summary>
/// An object's bytes as a seekable stream: reads go on from the open response while they are sequential; a seek
/// (a <c>Range</c> request on a proxied link) opens a ranged <c>GetObject</c> from the new position.
/// </summary>
internal sealed class S3ObjectStream(S3Bucket bucket, string key, GetObjectResponse first) : Stream
{
    private readonly long _length = first.ContentLength;
    private GetObjectResponse? _response = first;
    private long _position;
    private long _responsePosition;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = Math.Clamp(value, 0, _length);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= _length || buffer.Length == 0)
        {
            return 0;
        }

        if (_response is null || _responsePosition != _position)
        {
            await ReopenAsync(cancellationToken);
        }

        var read = await _response!.ResponseStream.ReadAsync(buffer, cancellationToken);
        if (read == 0)
        {
            throw new IOException($"{key} ended at {_position} of {_length} bytes.");
        }

        _position += read;
        _responsePosition = _position;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Synchronous reads are for callers that have no async path; every caller in this service reads asynchronously.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => _length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _response?.Dispose();
            _response = null;
        }

        base.Dispose(disposing);
    }

    private async Task ReopenAsync(CancellationToken cancellationToken)
    {
        _response?.Dispose();
        _response = null;
        var request = new GetObjectRequest { BucketName = bucket.Name, Key = key, ByteRange = new ByteRange(_position, _length - 1) };
        _response = await S3Errors.CallAsync(key, () => bucket.Client.GetObjectAsync(request, cancellationToken), cancellationToken)
            ?? throw new IOException($"{key} is no longer in the bucket.");
        _responsePosition = _position;
    }
}

namespace Downloads.Jobs.Ledger;

/// <summary>A fixed set of async locks picked by key: bounded memory, no per-key bookkeeping.</summary>
internal sealed class StripedAsyncLock
{
    private readonly SemaphoreSlim[] _stripes;

    public StripedAsyncLock(int stripes)
    {
        _stripes = new SemaphoreSlim[stripes];
        for (var i = 0; i < stripes; i++)
        {
            _stripes[i] = new SemaphoreSlim(1, 1);
        }
    }

    public async Task<Releaser> AcquireAsync(Guid key, CancellationToken cancellationToken)
    {
        var stripe = _stripes[(key.GetHashCode() & int.MaxValue) % _stripes.Length];
        await stripe.WaitAsync(cancellationToken);
        return new Releaser(stripe);
    }

    public readonly struct Releaser(SemaphoreSlim stripe) : IDisposable
    {
        public void Dispose() => stripe.Release();
    }
}

namespace Downloads.Jobs.Processing;

/// <summary>
/// Lets one run of this process at a time stay a little while it has nothing to do
/// (<see cref="ProcessingOptions.IdleLinger"/>): it starts the jobs stored meanwhile at once, where a new run would
/// first go through Hangfire's enqueue, fetch and state changes (about 15 ms of Hangfire's own round trips on an idle
/// node, measured). One is enough, and more would all wake for each new job; the others end.
/// </summary>
public sealed class IdleRunSlot
{
    private int _taken;

    /// <summary>Whether a run of this process waits for new jobs now.</summary>
    public bool Taken => Volatile.Read(ref _taken) == 1;

    public bool TryTake() => Interlocked.CompareExchange(ref _taken, 1, 0) == 0;

    public void Release() => Volatile.Write(ref _taken, 0);
}

namespace Downloads.Jobs.Ledger;

/// <summary>Tells whoever listens that a job joined the ready ring: a pulse completes the task each listener took.</summary>
internal sealed class ReadySignal
{
    private TaskCompletionSource _next = NewSource();

    /// <summary>Completes at the next pulse.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Pulse() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

namespace Downloads.Jobs.Ledger;

/// <summary>
/// The in-memory store's ready jobs (<see cref="JobTransitions.IsReady"/>) in fair order: a ring of clients, each
/// with a ring of its jobs. Each pick rotates both, so consecutive picks go to the next client, and within a
/// client to its next job: a client with one job gets as many picks as a client with a hundred.
/// Joining, leaving and picking cost O(1).
/// </summary>
internal sealed class ReadyRing
{
    private readonly Lock _gate = new();
    private readonly LinkedList<ClientJobs> _clients = new();
    private readonly Dictionary<string, LinkedListNode<ClientJobs>> _byClient = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, (LinkedListNode<ClientJobs> Client, LinkedListNode<Guid> Job)> _byJob = [];

    /// <summary>Pulsed whenever a job joins the ring.</summary>
    public ReadySignal Joined { get; } = new();

    public bool IsEmpty
    {
        get
        {
            lock (_gate)
            {
                return _byJob.Count == 0;
            }
        }
    }

    /// <summary>Puts the job in the ring when <paramref name="ready"/>, takes it out otherwise; idempotent.</summary>
    public void Set(Guid jobId, string client, bool ready)
    {
        var joined = false;
        lock (_gate)
        {
            if (ready)
            {
                joined = Join(jobId, client);
            }
            else
            {
                Leave(jobId);
            }
        }

        if (joined)
        {
            Joined.Pulse();
        }
    }

    public void Remove(Guid jobId)
    {
        lock (_gate)
        {
            Leave(jobId);
        }
    }

    /// <summary>
    /// Up to <paramref name="count"/> jobs in fair order, each once: the first job to come round again ends the
    /// round and keeps its turn, so it leads the next one.
    /// </summary>
    public IReadOnlyList<Guid> Next(int count)
    {
        lock (_gate)
        {
            var picks = new List<Guid>(Math.Min(count, _byJob.Count));
            for (var i = 0; i < count && _clients.First is { } client; i++)
            {
                var job = client.Value.Jobs.First!;
                if (picks.Contains(job.Value))
                {
                    break;
                }

                Rotate(_clients, client);
                Rotate(client.Value.Jobs, job);
                picks.Add(job.Value);
            }

            return picks;
        }
    }

    private bool Join(Guid jobId, string client)
    {
        if (_byJob.ContainsKey(jobId))
        {
            return false;
        }

        if (!_byClient.TryGetValue(client, out var clientNode))
        {
            clientNode = _clients.AddLast(new ClientJobs(client));
            _byClient[client] = clientNode;
        }

        _byJob[jobId] = (clientNode, clientNode.Value.Jobs.AddLast(jobId));
        return true;
    }

    private void Leave(Guid jobId)
    {
        if (!_byJob.Remove(jobId, out var at))
        {
            return;
        }

        at.Client.Value.Jobs.Remove(at.Job);
        if (at.Client.Value.Jobs.Count == 0)
        {
            _clients.Remove(at.Client);
            _byClient.Remove(at.Client.Value.Client);
        }
    }

    private static void Rotate<T>(LinkedList<T> ring, LinkedListNode<T> first)
    {
        ring.Remove(first);
        ring.AddLast(first);
    }

    private sealed record ClientJobs(string Client)
    {
        public LinkedList<Guid> Jobs { get; } = new();
    }
}

/// <summary>How the stores name a job's client in the ready ring.</summary>
internal static class ReadyKeys
{
    /// <summary>Jobs stored before clients were recorded share one anonymous client.</summary>
    public static string ClientOf(JobHeader job) => job.Client ?? string.Empty;
}

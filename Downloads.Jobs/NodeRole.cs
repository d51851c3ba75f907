namespace Downloads.Jobs;

/// <summary><c>Downloads:Role</c>: what this process does. One binary, one image.</summary>
public enum NodeRole
{
    /// <summary>HTTP, the hub and the Hangfire server: the embedded default.</summary>
    All,

    /// <summary>HTTP and the hub; jobs run elsewhere.</summary>
    Api,

    /// <summary>The Hangfire server; HTTP serves health and metrics only.</summary>
    Worker,
}

public static class NodeRoleExtensions
{
    public static bool ServesApi(this NodeRole role) => role != NodeRole.Worker;

    public static bool RunsJobs(this NodeRole role) => role != NodeRole.Api;
}

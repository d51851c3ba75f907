using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;

namespace Downloads.Tests.Infrastructure;

/// <summary>
/// The memory of a .NET process the test started, as the kernel counts it (<c>VmRSS</c>), after a full garbage
/// collection induced from outside through the runtime's diagnostics port, as <c>dotnet-gcdump</c> does: the service
/// needs no endpoint of its own for it.
/// </summary>
public static class ProcessMemory
{
    // The runtime provider's GCHeapCollect keyword: enabling it makes the runtime run a full, blocking collection.
    private const long GcHeapCollectKeyword = 0x800000;

    /// <summary>VmRSS of <paramref name="pid"/> in bytes, once a full collection has run.</summary>
    public static async Task<long> ResidentAfterFullGcAsync(int pid)
    {
        var client = new DiagnosticsClient(pid);
        using (var session = client.StartEventPipeSession(
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcHeapCollectKeyword), requestRundown: false))
        {
            // Read what the session sends, so the runtime never waits on a full pipe, until the collection is done.
            var drain = session.EventStream.CopyToAsync(Stream.Null);
            await Task.Delay(TimeSpan.FromSeconds(1));
            await session.StopAsync(CancellationToken.None).DefaultTimeout();
            await drain.DefaultTimeout();
        }

        return Resident(pid);
    }

    /// <summary>VmRSS of <c>/proc/{pid}/status</c>, in bytes.</summary>
    public static long Resident(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}

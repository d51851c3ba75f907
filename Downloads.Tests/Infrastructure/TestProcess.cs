using System.Runtime.CompilerServices;

namespace Downloads.Tests.Infrastructure;

internal static class TestProcess
{
    /// <summary>
    /// One test process hosts many apps at once, each with Hangfire workers that hold a thread while a job runs;
    /// in production one process hosts one app. Without headroom, the thread pool's slow growth on a loaded
    /// 2-core machine shows up as Redis timeouts (503s) in whichever test is unlucky.
    /// </summary>
#pragma warning disable CA2255 // A module initializer in a test assembly sets up the test process, which is its purpose here.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 256), Math.Max(io, 256));
    }
}

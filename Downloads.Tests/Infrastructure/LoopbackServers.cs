using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Downloads.Tests.Infrastructure;

/// <summary>What the tests' own servers (redis-server, s3rver) share: a free port, a wait for it, and a watchdog.</summary>
internal static class LoopbackServers
{
    /// <summary>A loopback port free at the time of the call.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until <paramref name="port"/> accepts connections; <paramref name="failed"/> says why waiting is pointless (e.g. the process exited).</summary>
    public static async Task WaitUntilListeningAsync(int port, Func<string?>? failed = null)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (true)
        {
            if (failed?.Invoke() is { } reason)
            {
                throw new InvalidOperationException(reason);
            }

            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, port, deadline.Token);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, deadline.Token);
            }
        }
    }

    // The test host may be ended without running exit handlers: a watchdog takes the server down with it
    // (checking first that the pid is still that server, recognised by a mark in its command line, not a reused one).
    public static void StopWithTestRun(int serverPid, string commandLineMark)
    {
        var script = $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; "
            + $"tr '\\0' ' ' < /proc/{serverPid}/cmdline 2>/dev/null | grep -qF -- '{commandLineMark}' && kill {serverPid}";
        using var watchdog = Process.Start(new ProcessStartInfo("bash", ["-c", script]) { UseShellExecute = false });
    }
}

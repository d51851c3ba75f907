using Hangfire;
using Hangfire.Common;
using Hangfire.Dashboard;

namespace Downloads.Jobs.Processing;

/// <summary>Names a run in the dashboard after the download jobs it serves (Hangfire would print <c>System.Guid[]</c>).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class RunDisplayNameAttribute() : JobDisplayNameAttribute("Run of download job(s)")
{
    public override string Format(DashboardContext context, Job job) =>
        job?.Args is [Guid[] jobIds, ..] ? $"Run of download job(s) {string.Join(", ", jobIds.Select(id => id.ToString("D")))}" : "Run of download job(s)";
}

using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Downloads.Tests.Infrastructure;

/// <summary>The edge faked: Hangfire's client over the host's storage, refusing new jobs while <see cref="Refuse"/> is set (as when its storage is down).</summary>
public sealed class SwitchableBackgroundJobClient
{
    private volatile bool _refuse;

    public bool Refuse
    {
        get => _refuse;
        set => _refuse = value;
    }

    /// <summary>Makes the host's Hangfire client this one.</summary>
    public void Register(IServiceCollection services)
    {
        services.RemoveAll<IBackgroundJobClient>();
        services.AddSingleton<IBackgroundJobClient>(sp => new Client(this, new BackgroundJobClient(sp.GetRequiredService<JobStorage>())));
    }

    private sealed class Client(SwitchableBackgroundJobClient owner, IBackgroundJobClient inner) : IBackgroundJobClient
    {
        public string Create(Job job, IState state) =>
            owner.Refuse ? throw new BackgroundJobClientException("Hangfire storage refused the job.", new InvalidOperationException("test")) : inner.Create(job, state);

        public bool ChangeState(string jobId, IState state, string expectedState) => inner.ChangeState(jobId, state, expectedState);
    }
}

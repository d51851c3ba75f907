using System.Reflection;
using Downloads.Jobs.Ledger;

namespace Downloads.Tests.Infrastructure;

/// <summary>
/// The service's own <see cref="IJobStore"/> (whichever the app registered), wrapped so that a test changes what some
/// of its calls do: <c>around</c> gets the method called, its arguments and the real call, and returns what the caller sees.
/// </summary>
public class JobStoreDecorator : DispatchProxy
{
    private IJobStore _inner = null!;
    private Func<MethodInfo, object?[], Func<object?>, object?> _around = null!;

    public static void Decorate(IServiceCollection services, Func<MethodInfo, object?[], Func<object?>, object?> around)
    {
        var registered = services.Last(d => d.ServiceType == typeof(IJobStore));
        services.Remove(registered);
        services.AddSingleton(sp =>
        {
            var proxy = Create<IJobStore, JobStoreDecorator>();
            var decorator = (JobStoreDecorator)(object)proxy;
            decorator._inner = (IJobStore)ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!);
            decorator._around = around;
            return proxy;
        });
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => _around(targetMethod!, args ?? [], () =>
    {
        try
        {
            return targetMethod!.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException;
        }
    });
}

using System.ComponentModel.DataAnnotations;

namespace Downloads.Jobs.Recovery;

/// <summary>
/// <c>Downloads:Recovery</c>: how soon the files of a run that died (a worker killed, a machine lost) go to another
/// run. The bound after a kill is <see cref="LeaseDuration"/> + <see cref="SweepInterval"/> (20 s by default), plus
/// the time a free worker takes to start the files again; Hangfire's invisibility timeout is not waited on.
/// </summary>
public sealed class RecoveryOptions : IValidatableObject
{
    public const string Section = "Downloads:Recovery";

    /// <value>How long a run's lease lasts without renewal; a run renews it every third of this. Default 15 s.</value>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <value>How often a worker node sweeps (one node at a time across the cluster). Default 5 s.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    internal TimeSpan RenewInterval => LeaseDuration / 3;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SweepInterval > LeaseDuration)
        {
            yield return new ValidationResult(
                "Downloads:Recovery:SweepInterval must not exceed LeaseDuration.", [nameof(SweepInterval)]);
        }
    }
}

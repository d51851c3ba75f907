using System.Diagnostics.Metrics;

namespace Downloads.Tests.Infrastructure;

/// <summary>
/// The measurements of one instrument of one host's meter: other hosts in the process share the meter's name, so a
/// scrape would mix theirs in (and their connections closing would show as negative deltas).
/// </summary>
public static class HostMeasurements
{
    /// <summary>Calls <paramref name="onMeasurement"/> for each measurement until the listener returned is disposed.</summary>
    public static MeterListener Listen(IServiceProvider host, string instrumentName, MeasurementCallback<long> onMeasurement)
    {
        var factory = host.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Name == instrumentName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback(onMeasurement);
        listener.Start();
        return listener;
    }
}

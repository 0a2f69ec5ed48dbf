using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace DbCore.Tests.Observability;

/// <summary>One measurement of a DbCore instrument, with its tags.</summary>
public sealed record MeasurementRecord(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out object? value) ? value?.ToString() : null;
}

/// <summary>
/// Collects every measurement of the "DbCore" meter while alive. The meter is static and tests run in parallel, so
/// read measurements through <see cref="For"/>, which keeps only those of one database (tag <c>db.namespace</c>).
/// </summary>
public sealed class MetricCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<MeasurementRecord> _measurements = new();

    public MetricCapture()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "DbCore")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<int>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        _listener.Start();
    }

    /// <summary>Polls the observable instruments (pending requests, pool bounds) now.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    /// <summary>The measurements of <paramref name="instrument"/> for the database <paramref name="database"/>, in order.</summary>
    public IReadOnlyList<MeasurementRecord> For(string instrument, string database)
        => _measurements.Where(m => m.Instrument == instrument && m.Tag("db.namespace") == database).ToList();

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dictionary = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            dictionary[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new MeasurementRecord(instrument.Name, value, dictionary));
    }
}

/// <summary>Collects stopped activities of the given sources (all when none given).</summary>
public sealed class ActivityCapture : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _activities = new();

    public ActivityCapture(params string[] sources)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => sources.Length == 0 || sources.Contains(source.Name),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _activities.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Activities => _activities.ToList();

    /// <summary>DbCore's unit-of-work spans of one database (tag <c>db.namespace</c>).</summary>
    public IReadOnlyList<Activity> DbCoreSpans(string database)
        => _activities.Where(a => a.Source.Name == "DbCore" && (a.GetTagItem("db.namespace") as string) == database).ToList();

    public void Dispose() => _listener.Dispose();
}


/// <summary>Network endpoints that fail in known ways.</summary>
public static class Endpoints
{
    /// <summary>A loopback port nobody listens on (bound, then released).</summary>
    public static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// A listener that completes the TCP handshake (the kernel backlog does) and never answers: a server that hangs.
    /// </summary>
    public static TcpListener Silent()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }
}

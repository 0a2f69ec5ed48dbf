using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DbCore.Tests.Resilience;

/// <summary>
/// A TCP proxy in front of the test server that, once armed, lets the next COMMIT reach the server and then cuts the
/// connection as soon as the server answers it: the transaction is committed, but the client never hears so. This is
/// the case a retry must never run again blindly.
/// </summary>
internal sealed class DroppingProxy : IAsyncDisposable
{
    private static readonly byte[] Commit = Encoding.ASCII.GetBytes("COMMIT\0");

    /// <summary>What the client must send for the armed drop: COMMIT, or the text given to <see cref="DropNextAnswerTo"/>.</summary>
    private volatile byte[] _marker = Commit;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly Task _accepting;
    private int _armed;
    private int _dropped;
    private volatile bool _corrupt;

    public DroppingProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>
    /// Round trips so far: the times a client sent after the server had answered (or first), i.e. the client's bursts. A
    /// burst may hold several messages (a batch, a prepended SAVEPOINT with its COMMIT) and the server may answer each with
    /// its own ReadyForQuery: it is still one wait for the network.
    /// </summary>
    public int RoundTrips => Volatile.Read(ref _roundTrips);

    private int _roundTrips;

    private const int ClientSide = 1;

    private const int ServerSide = 2;

    /// <summary>How many COMMIT answers were swallowed.</summary>
    public int Dropped => Volatile.Read(ref _dropped);

    /// <summary>Cuts the connection that sends the next COMMIT, right after the server answered it.</summary>
    public void DropNextCommitAnswer() => DropNextAnswerTo(Commit);

    /// <summary>Cuts the connection that sends <paramref name="text"/> next (a statement in autocommit, say), right after the server answered.</summary>
    public void DropNextAnswerTo(string text) => DropNextAnswerTo(Encoding.UTF8.GetBytes(text));

    private void DropNextAnswerTo(byte[] marker)
    {
        _marker = marker;
        Volatile.Write(ref _armed, 1);
    }

    /// <summary>
    /// Like <see cref="DropNextCommitAnswer"/>, but the client gets a message with an unknown type code instead of the
    /// answer: a protocol error (not an I/O error) after the COMMIT was written.
    /// </summary>
    public void CorruptNextCommitAnswer()
    {
        _corrupt = true;
        DropNextAnswerTo(Commit);
    }

    /// <summary>Like <see cref="CorruptNextCommitAnswer"/>, for the next message that holds <paramref name="text"/> (a statement in autocommit, say).</summary>
    public void CorruptNextAnswerTo(string text)
    {
        _corrupt = true;
        DropNextAnswerTo(text);
    }

    /// <summary>
    /// From now on every connection open so far carries nothing either way and is never closed: what a client sees when a
    /// NAT or load balancer forgot an idle connection (its packets vanish, no reset comes). New connections work.
    /// </summary>
    public void BlackholeOpenConnections()
    {
        lock (_pumps)
        {
            foreach (Link link in _links)
            {
                link.Blackholed = true;
            }
        }
    }

    private readonly List<Link> _links = [];

    /// <summary>Once a COMMIT answer was dropped, new connections are accepted but never reach the server.</summary>
    public bool StallAfterDrop { get; set; }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            if (StallAfterDrop && Dropped > 0)
            {
                lock (_pumps)
                {
                    _pumps.Add(HoldAsync(client));
                }

                continue;
            }

            var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, _targetPort);
            var link = new Link(client, server);
            lock (_pumps)
            {
                _links.Add(link);
                _pumps.Add(PumpToServerAsync(link));
                _pumps.Add(PumpToClientAsync(link));
            }
        }
    }

    private async Task PumpToServerAsync(Link link)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await link.Client.GetStream().ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                if (link.Blackholed)
                {
                    continue;
                }

                if (Volatile.Read(ref _armed) == 1 && buffer.AsSpan(0, read).IndexOf(_marker) >= 0 && Interlocked.Exchange(ref _armed, 0) == 1)
                {
                    link.DropAnswer = true;
                }

                if (Interlocked.Exchange(ref link.LastFrom, ClientSide) != ClientSide)
                {
                    Interlocked.Increment(ref _roundTrips);
                }

                await link.Server.GetStream().WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception)
        {
        }
        finally
        {
            link.Close();
        }
    }

    private async Task PumpToClientAsync(Link link)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await link.Server.GetStream().ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                if (link.Blackholed)
                {
                    continue;
                }

                if (link.DropAnswer)
                {
                    // The server has answered the COMMIT: it is durable now. The client never gets the answer.
                    if (_corrupt)
                    {
                        byte[] garbage = [(byte)'q', 0, 0, 0, 4];
                        await link.Client.GetStream().WriteAsync(garbage, _stop.Token);
                        await link.Client.GetStream().FlushAsync(_stop.Token);
                        await Task.Delay(200, _stop.Token);
                    }

                    Interlocked.Increment(ref _dropped);
                    break;
                }

                Volatile.Write(ref link.LastFrom, ServerSide);
                await link.Client.GetStream().WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception)
        {
        }
        finally
        {
            link.Close();
        }
    }

    private async Task HoldAsync(TcpClient client)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, _stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            client.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ContinueWith(static _ => { }, TaskScheduler.Default);
        Task[] pumps;
        lock (_pumps)
        {
            pumps = [.. _pumps];
        }

        await Task.WhenAll(pumps).ContinueWith(static _ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private sealed class Link(TcpClient client, TcpClient server)
    {
        public TcpClient Client { get; } = client;

        public TcpClient Server { get; } = server;

        public volatile bool DropAnswer;

        public volatile bool Blackholed;

        /// <summary>How much of the ReadyForQuery pattern the server's last bytes matched.</summary>
        /// <summary>Which side sent last: <see cref="ClientSide"/>, <see cref="ServerSide"/> or 0 (nothing yet).</summary>
        public int LastFrom;

        public void Close()
        {
            Client.Close();
            Server.Close();
        }
    }
}

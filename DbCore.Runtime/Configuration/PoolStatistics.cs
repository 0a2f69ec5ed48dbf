namespace DbCore;

/// <summary>
/// A snapshot of the sessions of one accessor, counted by DbCore itself for every provider
/// (the equivalent of SQLAlchemy's <c>pool.status()</c>).
/// </summary>
/// <param name="InUse">Sessions holding a connection now.</param>
/// <param name="Waiting">Callers waiting for a connection now.</param>
/// <param name="TotalOpened">Sessions that acquired a connection since start.</param>
/// <param name="MinSize">The configured pool size (kept open).</param>
/// <param name="MaxSize">
/// The configured maximum (size + overflow). On PostgreSQL the most sessions that hold a connection at once; on SQLite,
/// which caps no sessions, the most open connections kept for the next session of a file database.
/// </param>
public readonly record struct PoolStatistics(int InUse, int Waiting, long TotalOpened, int MinSize, int MaxSize)
{
    /// <inheritdoc/>
    public override string ToString()
        => $"Pool size: {MinSize}  Max: {MaxSize}  In use: {InUse}  Waiting: {Waiting}  Opened in total: {TotalOpened}";
}

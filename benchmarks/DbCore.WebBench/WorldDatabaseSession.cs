using DbCore;

namespace DbCore.WebBench;

/// <summary>
/// The benchmark's reads as typed queries, the way the README shows first: the generator writes the command, binds
/// <c>@id</c> as a typed <c>int4</c> parameter (<c>$1</c> on the wire, the same text the raw variant sends) and reads the row
/// by column name. Used by <c>/dbcore/*</c> unless the program runs with <c>--dbcore commands</c>.
/// </summary>
public partial class WorldDatabaseSession
{
    /// <summary>One row of <c>world</c>; the spec's ids 1..10000 all exist.</summary>
    [Query("SELECT id, randomnumber FROM world WHERE id = @id")]
    public partial Task<World> WorldAsync(int id, CancellationToken cancellationToken = default);

    /// <summary>Every row of <c>fortune</c>, unsorted (the page sorts them after adding one).</summary>
    [Query("SELECT id, message FROM fortune")]
    public partial Task<List<Fortune>> FortunesAsync(CancellationToken cancellationToken = default);
}

using System.Data.Common;
using Npgsql;

namespace DbCore.WebBench;

/// <summary>
/// The four TechEmpower database tests, twice. <c>/dbcore/*</c>: the README's web idiom, the injected scoped
/// <see cref="WorldDatabaseSession"/>: its typed queries (<see cref="MapDbCoreTyped"/>, the default), or with
/// <c>--dbcore commands</c> commands from <c>session.CreateCommand</c> read by the same code as raw's (<see cref="MapDbCore"/>);
/// either way the update runs as the unit's last statement with <c>ExecuteAndCommitAsync(sql, state, bind)</c>.
/// <c>/raw/*</c>: one shared <see cref="NpgsqlDataSource"/>, a connection opened per request, as TechEmpower's aspnetcore
/// entries do. Same SQL on the wire, same rendering code (<see cref="Sql"/>).
/// </summary>
internal static class Endpoints
{
    public static void MapDbCore(WebApplication app)
    {
        RouteGroupBuilder group = app.MapGroup("/dbcore");

        group.MapGet("/db", async (WorldDatabaseSession session, CancellationToken ct) =>
        {
            await session.OpenAsync(ct).ConfigureAwait(false);
            await using DbCommand command = session.CreateCommand(Sql.SelectWorld);
            Sql.AddId(command);
            return Sql.Json(await Sql.ReadWorldAsync(command).ConfigureAwait(false));
        });

        group.MapGet("/queries", async (string? queries, WorldDatabaseSession session, CancellationToken ct) =>
        {
            await session.OpenAsync(ct).ConfigureAwait(false);
            await using DbCommand command = session.CreateCommand(Sql.SelectWorld);
            return Sql.Json(await Sql.ReadWorldsAsync(command, Sql.ParseQueries(queries)).ConfigureAwait(false));
        });

        group.MapGet("/fortunes", async (WorldDatabaseSession session, CancellationToken ct) =>
        {
            await session.OpenAsync(ct).ConfigureAwait(false);
            await using DbCommand command = session.CreateCommand(Sql.SelectFortunes);
            return Sql.FortunesPage(await Sql.ReadFortunesAsync(command).ConfigureAwait(false));
        });

        group.MapGet("/updates", async (string? queries, WorldDatabaseSession session, CancellationToken ct) =>
        {
            await session.OpenAsync(ct).ConfigureAwait(false);
            World[] worlds;
            await using (DbCommand select = session.CreateCommand(Sql.SelectWorld))
            {
                worlds = await Sql.ReadWorldsAsync(select, Sql.ParseQueries(queries)).ConfigureAwait(false);
            }

            // The unit's only write, run by the session as its last statement: with nothing written before it, it runs in
            // autocommit, the statement raw sends (after an earlier write: the UPDATE and COMMIT in one batch).
            await session.ExecuteAndCommitAsync(Sql.UpdateWorlds(worlds.Length), worlds, static (update, worlds) => Sql.BindUpdate(update, worlds), ct)
                .ConfigureAwait(false);

            return Sql.Json(worlds);
        });
    }

    public static void MapDbCoreTyped(WebApplication app)
    {
        RouteGroupBuilder group = app.MapGroup("/dbcore");

        group.MapGet("/db", async (WorldDatabaseSession session, CancellationToken ct)
            => Sql.Json(await session.WorldAsync(Sql.RandomId(), ct).ConfigureAwait(false)));

        group.MapGet("/queries", async (string? queries, WorldDatabaseSession session, CancellationToken ct)
            => Sql.Json(await ReadWorldsAsync(session, Sql.ParseQueries(queries), ct).ConfigureAwait(false)));

        group.MapGet("/fortunes", async (WorldDatabaseSession session, CancellationToken ct)
            => Sql.FortunesPage(await session.FortunesAsync(ct).ConfigureAwait(false)));

        group.MapGet("/updates", async (string? queries, WorldDatabaseSession session, CancellationToken ct) =>
        {
            World[] worlds = await ReadWorldsAsync(session, Sql.ParseQueries(queries), ct).ConfigureAwait(false);
            await session.ExecuteAndCommitAsync(Sql.UpdateWorlds(worlds.Length), worlds, static (update, worlds) => Sql.BindUpdate(update, worlds), ct)
                .ConfigureAwait(false);
            return Sql.Json(worlds);
        });

        static async Task<World[]> ReadWorldsAsync(WorldDatabaseSession session, int count, CancellationToken ct)
        {
            var worlds = new World[count];
            for (int i = 0; i < count; i++)
            {
                worlds[i] = await session.WorldAsync(Sql.RandomId(), ct).ConfigureAwait(false);
            }

            return worlds;
        }
    }

    public static void MapRaw(WebApplication app, NpgsqlDataSource dataSource)
    {
        RouteGroupBuilder group = app.MapGroup("/raw");

        group.MapGet("/db", async (CancellationToken ct) =>
        {
            await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
            await using DbCommand command = new NpgsqlCommand(Sql.SelectWorld, connection);
            Sql.AddId(command);
            return Sql.Json(await Sql.ReadWorldAsync(command).ConfigureAwait(false));
        });

        group.MapGet("/queries", async (string? queries, CancellationToken ct) =>
        {
            await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
            await using DbCommand command = new NpgsqlCommand(Sql.SelectWorld, connection);
            return Sql.Json(await Sql.ReadWorldsAsync(command, Sql.ParseQueries(queries)).ConfigureAwait(false));
        });

        group.MapGet("/fortunes", async (CancellationToken ct) =>
        {
            await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
            await using DbCommand command = new NpgsqlCommand(Sql.SelectFortunes, connection);
            return Sql.FortunesPage(await Sql.ReadFortunesAsync(command).ConfigureAwait(false));
        });

        // No explicit transaction: the one UPDATE statement commits on its own, as in TechEmpower's entries.
        group.MapGet("/updates", async (string? queries, CancellationToken ct) =>
        {
            await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
            World[] worlds;
            await using (DbCommand select = new NpgsqlCommand(Sql.SelectWorld, connection))
            {
                worlds = await Sql.ReadWorldsAsync(select, Sql.ParseQueries(queries)).ConfigureAwait(false);
            }

            await using (DbCommand update = new NpgsqlCommand(Sql.UpdateWorlds(worlds.Length), connection))
            {
                Sql.BindUpdate(update, worlds);
                await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return Sql.Json(worlds);
        });
    }
}

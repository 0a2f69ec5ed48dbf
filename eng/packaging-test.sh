#!/usr/bin/env bash
# Packaging test: packs DbCore, then builds fresh consumer projects that reference only the .nupkg from a local feed.
#  1. a settings class builds, runs a unit of work on SQLite and exits 0;
#  2. a non-partial settings class fails to build with DBC0001;
#  3. a web app on DbCore.AspNetCore: a typed query and a unit of work per request over real HTTP (201, 400 rolled back, 409).
#  4. DbCore.EntityFrameworkCore: a consumer saves through a DbContext built on a session, on SQLite.
#  5. checked queries: a consumer writes its dbcore.queries.json (VerifyQueriesAgainstSqliteSchemaAsync), builds clean with
#     DbCoreRequireQuerySnapshot=true (the package's build props hand the file to the analyzer), and a wrong member type
#     then fails the build with DBC0114 at the method, naming column and member.
# A unique version per run keeps a stale copy in the NuGet cache from being used.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/dbcore-packaging-XXXXXX)
trap 'rm -rf "$work"' EXIT
version="0.1.0-ci.$(date +%Y%m%d%H%M%S).$$"

echo "== pack DbCore $version"
dotnet pack "$root/DbCore.Runtime/DbCore.Runtime.csproj" -c Release -o "$work/feed" -p:Version="$version" -nologo -v quiet -warnaserror
pkg="$work/feed/DbCore.$version.nupkg"
listing=$(unzip -l "$pkg")
for entry in lib/net8.0/DbCore.Runtime.dll lib/net10.0/DbCore.Runtime.dll analyzers/dotnet/cs/DbCore.Generators.dll analyzers/dotnet/cs/DbCore.CodeFixes.dll build/DbCore.props buildTransitive/DbCore.props README.md; do
  grep -q " $entry\$" <<<"$listing" || { echo "package is missing $entry"; exit 1; }
done
[ -f "$work/feed/DbCore.$version.snupkg" ] || { echo "symbols package missing"; exit 1; }
dotnet pack "$root/DbCore.AspNetCore/DbCore.AspNetCore.csproj" -c Release -o "$work/feed" -p:Version="$version" -nologo -v quiet -warnaserror
# Listings are captured before grep: with pipefail, `unzip | grep -q` fails at random when grep exits first (SIGPIPE).
listing=$(unzip -l "$work/feed/DbCore.AspNetCore.$version.nupkg")
grep -q " lib/net10.0/DbCore.AspNetCore.dll\$" <<<"$listing" || { echo "DbCore.AspNetCore package is missing its assembly"; exit 1; }

echo "== pack DbCore.EntityFrameworkCore $version"
dotnet pack "$root/DbCore.EntityFrameworkCore/DbCore.EntityFrameworkCore.csproj" -c Release -o "$work/feed" -p:Version="$version" -nologo -v quiet -warnaserror
efpkg="$work/feed/DbCore.EntityFrameworkCore.$version.nupkg"
listing=$(unzip -l "$efpkg")
for entry in lib/net10.0/DbCore.EntityFrameworkCore.dll lib/net10.0/DbCore.EntityFrameworkCore.xml README.md; do
  grep -q " $entry\$" <<<"$listing" || { echo "EF package is missing $entry"; exit 1; }
done
nuspec=$(unzip -p "$efpkg" DbCore.EntityFrameworkCore.nuspec)
grep -q "id=\"DbCore\" version=\"$version\"" <<<"$nuspec" || { echo "EF package does not depend on DbCore $version"; exit 1; }

cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="local" value="$work/feed" />
  </packageSources>
</configuration>
XML
# Keep nuget.org (the default source) for the package's own dependencies.

new_consumer() {
  local dir="$1" package="${2:-DbCore}"
  mkdir -p "$dir"
  cp "$work/nuget.config" "$dir/"
  cat > "$dir/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="$package" Version="$version" />
  </ItemGroup>
</Project>
XML
}

echo "== consumer: a settings class, a unit of work on SQLite"
new_consumer "$work/good"
cat > "$work/good/Program.cs" <<'CS'
using DbCore;

await using var db = new Shop(new ShopSettings(), "Development");
await db.ExecuteAsync(static async (session, ct) =>
{
    await using var create = session.CreateCommand("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    await create.ExecuteNonQueryAsync(ct);
    await using var insert = session.CreateCommand("INSERT INTO t (name) VALUES ('packaged')");
    await insert.ExecuteNonQueryAsync(ct);
});
long count = await db.ExecuteAsync(static async (session, ct) =>
{
    await using var select = session.CreateCommand("SELECT COUNT(*) FROM t");
    return (long)(await select.ExecuteScalarAsync(ct))!;
});
Console.WriteLine($"rows={count} healthy={await db.CheckHealthAsync()}");
return count == 1 ? 0 : 1;

[DatabaseSettings]
public partial class ShopSettings
{
    [ConnectionString] public string ConnectionString { get; set; } = "sqlite:///:memory:";
}
CS
(cd "$work/good" && dotnet run -nologo -v quiet)

echo "== consumer: a non-partial settings class fails with DBC0001"
new_consumer "$work/bad"
cat > "$work/bad/Program.cs" <<'CS'
using DbCore;

Console.WriteLine("unreachable");

[DatabaseSettings]
public class ShopSettings
{
    [ConnectionString] public string ConnectionString { get; set; } = "Data Source=shop.db";
}
CS
set +e
(cd "$work/bad" && dotnet build -nologo -v quiet) > "$work/bad.log" 2>&1
status=$?
set -e
if [ "$status" -eq 0 ] || ! grep -q "DBC0001" "$work/bad.log"; then
  cat "$work/bad.log"; echo "expected the build to fail with DBC0001"; exit 1
fi
grep -m1 "DBC0001" "$work/bad.log" | sed 's/^/  /'
echo "== web consumer: DbCore.AspNetCore, a typed query, a unit of work per request over real HTTP"
new_consumer "$work/web"
sed -i "s|<Project Sdk=\"Microsoft.NET.Sdk\">|<Project Sdk=\"Microsoft.NET.Sdk.Web\">|; s|<PackageReference Include=\"DbCore\" Version=\"$version\" />|&<PackageReference Include=\"DbCore.AspNetCore\" Version=\"$version\" />|" "$work/web/Consumer.csproj"
cat > "$work/web/Program.cs" <<'CS'
using System.Net.Http.Json;
using DbCore;
using DbCore.AspNetCore;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.ClearProviders();
builder.Services.AddShop();
WebApplication app = builder.Build();
await app.Services.GetRequiredService<Shop>().ExecuteAsync((s, ct) => s.CreateAsync(ct));
RouteGroupBuilder items = app.MapGroup("/items").WithUnitOfWork<ShopSession>();
items.MapPost("/", async (string name, ShopSession session, CancellationToken ct) => Results.Created("/items", await session.AddAsync(name, ct)));
items.MapPost("/refused", async Task<IResult> (string name, ShopSession session, CancellationToken ct) =>
{
    await session.AddAsync(name, ct);
    return Results.BadRequest();
});
items.MapGet("/", (ShopSession session, CancellationToken ct) => session.NamesAsync(ct));
await app.StartAsync();
using var client = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()) };
int created = (int)(await client.PostAsync("/items/?name=kept", null)).StatusCode;
int refused = (int)(await client.PostAsync("/items/refused?name=dropped", null)).StatusCode;
int duplicate = (int)(await client.PostAsync("/items/?name=kept", null)).StatusCode;
List<string> names = (await client.GetFromJsonAsync<List<string>>("/items/"))!;
await app.StopAsync();
Console.WriteLine($"created={created} refused={refused} duplicate={duplicate} names={string.Join(",", names)}");
return created == 201 && refused == 400 && duplicate == 409 && names.SequenceEqual(["kept"]) ? 0 : 1;

[DatabaseSettings]
public partial class ShopSettings
{
    [ConnectionString] public string ConnectionString { get; set; } = "sqlite:///:memory:";
}

public partial class ShopSession
{
    [Query("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")]
    public partial Task CreateAsync(CancellationToken cancellationToken = default);

    [Query("INSERT INTO items (name) VALUES (@name) RETURNING id")]
    public partial Task<long> AddAsync(string name, CancellationToken cancellationToken = default);

    [Query("SELECT name FROM items ORDER BY id")]
    public partial Task<List<string>> NamesAsync(CancellationToken cancellationToken = default);
}
CS
(cd "$work/web" && dotnet run -nologo -v quiet)

echo "== consumer: DbCore.EntityFrameworkCore, a DbContext on a session (SQLite)"
new_consumer "$work/ef" DbCore.EntityFrameworkCore
cat > "$work/ef/Program.cs" <<'CS'
using DbCore;
using Microsoft.EntityFrameworkCore;

await using var db = new Shop(new ShopSettings(), "Development");
int saved = await db.ExecuteAsync(static async (session, ct) =>
{
    await using var create = session.CreateCommand("CREATE TABLE items (id INTEGER PRIMARY KEY)");
    await create.ExecuteNonQueryAsync(ct);
    await using Items items = session.CreateDbContext<Items>(options => new(options));
    items.Set<Item>().Add(new Item { Id = 1 });
    return await items.SaveChangesAsync(ct);
});
long count = await db.ExecuteAsync(static async (session, ct) =>
{
    await using var select = session.CreateCommand("SELECT COUNT(*) FROM items");
    return (long)(await select.ExecuteScalarAsync(ct))!;
});
Console.WriteLine($"saved={saved} rows={count}");
return count == 1 ? 0 : 1;

[DatabaseSettings]
public partial class ShopSettings
{
    [ConnectionString] public string ConnectionString { get; set; } = "sqlite:///:memory:";
}

public sealed class Item
{
    public int Id { get; set; }
}

public sealed class Items(DbContextOptions<Items> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
        => modelBuilder.Entity<Item>(item => { item.ToTable("items"); item.Property(i => i.Id).ValueGeneratedNever(); });
}
CS
(cd "$work/ef" && dotnet run -nologo -v quiet)

echo "== consumer: checked queries, dbcore.queries.json written, then a wrong member type fails the build with DBC0114"
new_consumer "$work/checked"
cat > "$work/checked/Program.cs" <<'CS'
using DbCore;

const string Schema = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)";
if (Environment.GetEnvironmentVariable("WRITE_QUERY_SNAPSHOT") == "1")
{
    await Shop.VerifyQueriesAgainstSqliteSchemaAsync(Schema, new QueryVerificationOptions { SnapshotPath = "dbcore.queries.json" });
    return 0;
}

await using var db = new Shop(new ShopSettings(), "Development");
Item? item = await db.ExecuteAsync(static async (session, ct) =>
{
    await using var create = session.CreateCommand(Schema + "; INSERT INTO items (name) VALUES ('checked')");
    await create.ExecuteNonQueryAsync(ct);
    return await session.FindAsync(1, ct);
});
Console.WriteLine($"item={item}");
return item is { Name: "checked" } ? 0 : 1;

[DatabaseSettings]
public partial class ShopSettings
{
    [ConnectionString] public string ConnectionString { get; set; } = "sqlite:///:memory:";
}

public sealed record Item(long Id, string Name);

public partial class ShopSession
{
    [Query("SELECT id, name FROM items WHERE id = @id")]
    public partial Task<Item?> FindAsync(long id, CancellationToken cancellationToken = default);
}
CS
(cd "$work/checked" && WRITE_QUERY_SNAPSHOT=1 dotnet run -nologo -v quiet)
grep -q '"method": "FindAsync"' "$work/checked/dbcore.queries.json" || { cat "$work/checked/dbcore.queries.json"; echo "the snapshot has no entry for FindAsync"; exit 1; }
(cd "$work/checked" && dotnet run -nologo -v quiet -p:DbCoreRequireQuerySnapshot=true)
sed -i 's/public sealed record Item(long Id, string Name);/public sealed record Item(string Id, string Name);/' "$work/checked/Program.cs"
set +e
(cd "$work/checked" && dotnet build -nologo -v quiet) > "$work/checked.log" 2>&1
status=$?
set -e
line=$(grep -n "FindAsync(long id" "$work/checked/Program.cs" | cut -d: -f1)
if [ "$status" -eq 0 ] || ! grep -q "Program.cs($line,[0-9]*): error DBC0114: 'ShopSession.FindAsync' .*column 'id' is INTEGER and member 'Id' is string" "$work/checked.log"; then
  cat "$work/checked.log"; echo "expected the build to fail with DBC0114 at FindAsync naming column 'id' and member 'Id'"; exit 1
fi
grep -m1 "DBC0114" "$work/checked.log" | sed 's/^/  /'

echo "packaging test passed"

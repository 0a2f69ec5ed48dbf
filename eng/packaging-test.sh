#!/usr/bin/env bash
# Packaging test: packs DbCore, then builds fresh consumer projects that reference only the .nupkg from a local feed.
#  1. a settings class builds, runs a unit of work on SQLite and exits 0;
#  2. a non-partial settings class fails to build with DBC0001;
#  3. DbCore.EntityFrameworkCore: a consumer saves through a DbContext built on a session, on SQLite.
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
for entry in lib/net8.0/DbCore.Runtime.dll lib/net10.0/DbCore.Runtime.dll analyzers/dotnet/cs/DbCore.Generators.dll analyzers/dotnet/cs/DbCore.CodeFixes.dll README.md; do
  grep -q " $entry\$" <<<"$listing" || { echo "package is missing $entry"; exit 1; }
done
[ -f "$work/feed/DbCore.$version.snupkg" ] || { echo "symbols package missing"; exit 1; }

echo "== pack DbCore.EntityFrameworkCore $version"
dotnet pack "$root/DbCore.EntityFrameworkCore/DbCore.EntityFrameworkCore.csproj" -c Release -o "$work/feed" -p:Version="$version" -nologo -v quiet -warnaserror
efpkg="$work/feed/DbCore.EntityFrameworkCore.$version.nupkg"
listing=$(unzip -l "$efpkg")
for entry in lib/net10.0/DbCore.EntityFrameworkCore.dll lib/net10.0/DbCore.EntityFrameworkCore.xml README.md; do
  grep -q " $entry\$" <<<"$listing" || { echo "EF package is missing $entry"; exit 1; }
done
unzip -p "$efpkg" DbCore.EntityFrameworkCore.nuspec | grep -q "id=\"DbCore\" version=\"$version\"" || { echo "EF package does not depend on DbCore $version"; exit 1; }

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

echo "packaging test passed"

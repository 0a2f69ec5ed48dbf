#!/usr/bin/env bash
# Packaging test: packs DbCore, then builds fresh consumer projects that reference only the .nupkg from a local feed.
#  1. a settings class builds, runs a unit of work on SQLite and exits 0;
#  2. a non-partial settings class fails to build with DBC0001.
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
  local dir="$1"
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
    <PackageReference Include="DbCore" Version="$version" />
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
echo "packaging test passed"

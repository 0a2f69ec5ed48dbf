using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using DbCore.Generators.Emitting;
using DbCore.Generators.Model;
using DbCore.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DbCore.Generators;

/// <summary>
/// Emits the typed accessor, session, binder and <c>Add{Name}()</c> registration for every <c>[DatabaseSettings]</c> class.
/// Reports nothing: invalid classes are skipped and the analyzer reports why.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class DatabaseSettingsGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<SettingsSpec> settings = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.DatabaseSettingsAttribute,
                predicate: static (node, _) => node is ClassDeclarationSyntax,
                transform: static (context, cancellationToken) => SettingsParser.ParseForGenerator(context, cancellationToken))
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.Settings);

        // Two classes that would generate the same names are left out (DBC0010 reports them), so the user sees one
        // diagnostic instead of a cascade of duplicate-type errors.
        IncrementalValuesProvider<SettingsSpec> unique = settings
            .Collect()
            .SelectMany(static (all, _) => WithoutCollisions(all))
            .WithTrackingName(TrackingNames.UniqueSettings);

        context.RegisterSourceOutput(unique, static (spc, spec) => SettingsEmitter.Emit(spc, spec));

        // [Query] methods: one output per method, so an edit of one query re-emits that method only. Each is matched with
        // the sessions the settings classes generate (by namespace and name: the generator cannot see its own output).
        IncrementalValuesProvider<QueryOutput> queries = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.QueryAttribute,
                predicate: static (node, _) => node is MethodDeclarationSyntax,
                transform: static (context, cancellationToken) => QueryParser.ParseForGenerator(context, cancellationToken))
            .Where(static output => output is not null)
            .Select(static (output, _) => output!)
            .WithTrackingName(TrackingNames.Queries);

        IncrementalValueProvider<EquatableArray<SessionTarget>> sessions = unique
            .Select(static (spec, _) => new SessionTarget(spec.Namespace, spec.SessionName, spec.Provider, spec.AccessorName))
            .Collect()
            .Select(static (all, _) => new EquatableArray<SessionTarget>(all.ToArray()))
            .WithTrackingName(TrackingNames.Sessions);

        IncrementalValuesProvider<BoundQuery> bound = queries
            .Combine(sessions)
            .Select(static (pair, _) => Bind(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.BoundQueries);

        context.RegisterSourceOutput(bound, static (spc, query) => QueryEmitter.Emit(spc, query));

        // One query catalog per accessor (VerifyQueriesAsync): the session's valid methods, collected. An edit of one query
        // re-emits the catalog of its session only; an accessor without queries gets an empty catalog.
        IncrementalValueProvider<EquatableArray<QueryMethodSpec>> methods = bound
            .Where(static query => query.Method is not null)
            .Select(static (query, _) => query.Method!)
            .Collect()
            .Select(static (all, _) => new EquatableArray<QueryMethodSpec>(all.ToArray()));

        IncrementalValuesProvider<QueryCatalogSpec> catalogs = unique
            .Combine(methods)
            .Select(static (pair, _) => Catalog(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.QueryCatalogs);

        context.RegisterSourceOutput(catalogs, static (spc, catalog) => QueryCatalogEmitter.Emit(spc, catalog));
    }

    /// <summary>The accessor's catalog: the methods declared on its session, in a stable order.</summary>
    private static QueryCatalogSpec Catalog(SettingsSpec settings, EquatableArray<QueryMethodSpec> methods)
    {
        QueryMethodSpec[] mine = methods
            .Where(m => m.Namespace == settings.Namespace && m.ClassName == settings.SessionName)
            .OrderBy(m => m.MethodName, System.StringComparer.Ordinal)
            .ThenBy(m => m.Sql, System.StringComparer.Ordinal)
            .ThenBy(m => string.Join(",", m.Signature.Select(p => p.TypeName)), System.StringComparer.Ordinal)
            .ToArray();
        return new QueryCatalogSpec(settings.Namespace, settings.AccessorName, settings.SessionName, settings.Provider, new EquatableArray<QueryMethodSpec>(mine));
    }

    /// <summary>The method with its session's provider; a stub when it is invalid or in no generated session (DBC0109).</summary>
    private static BoundQuery Bind(QueryOutput output, EquatableArray<SessionTarget> sessions)
    {
        if (output.Method is { } method)
        {
            foreach (SessionTarget session in sessions)
            {
                if (session.Namespace == method.Namespace && session.SessionName == method.ClassName)
                {
                    return new BoundQuery(method, session.Provider, null);
                }
            }
        }

        return new BoundQuery(null, ProviderKind.Auto, output.Stub);
    }

    /// <summary>Drops every class that shares a generated type name (accessor, session or extensions) with another.</summary>
    private static ImmutableArray<SettingsSpec> WithoutCollisions(ImmutableArray<SettingsSpec> all)
    {
        if (all.Length < 2)
        {
            return all;
        }

        var counts = new Dictionary<string, int>();
        foreach (SettingsSpec spec in all)
        {
            foreach (string name in GeneratedTypeNames(spec))
            {
                counts[name] = counts.TryGetValue(name, out int n) ? n + 1 : 1;
            }
        }

        ImmutableArray<SettingsSpec>.Builder result = ImmutableArray.CreateBuilder<SettingsSpec>(all.Length);
        foreach (SettingsSpec spec in all)
        {
            bool unique = true;
            foreach (string name in GeneratedTypeNames(spec))
            {
                unique &= counts[name] == 1;
            }

            if (unique)
            {
                result.Add(spec);
            }
        }

        return result.ToImmutable();
    }

    private static string[] GeneratedTypeNames(SettingsSpec spec)
    {
        string prefix = spec.Namespace + ".";
        return new[] { prefix + spec.AccessorName, prefix + spec.SessionName, prefix + spec.ExtensionsName };
    }
}

using System;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace DbCore.Generators.Parsing;

/// <summary>
/// Display strings of types and namespaces, remembered per compilation. Roslyn runs every <c>[Query]</c> method's transform
/// again on each new compilation (each keystroke), and most of its allocations were <c>ToDisplayString</c> of the same few
/// types (<c>long</c>, <c>CancellationToken</c>, <c>Task&lt;Todo?&gt;</c>) for every method. Keyed by the compilation's
/// assembly symbol (a new one per compilation, held weakly, so nothing outlives its compilation) and by symbol equality
/// including nullability, so <c>string</c> and <c>string?</c> stay apart. Thread-safe: transforms may run in parallel.
/// </summary>
internal sealed class DisplayNames
{
    private static readonly ConditionalWeakTable<IAssemblySymbol, DisplayNames> s_perCompilation = new();

    private readonly ConcurrentDictionary<ITypeSymbol, string>[] _types;
    private readonly ConcurrentDictionary<INamespaceSymbol, string> _namespaces = new(SymbolEqualityComparer.Default);
    private readonly SymbolDisplayFormat[] _formats;

    private DisplayNames(SymbolDisplayFormat[] formats)
    {
        _formats = formats;
        _types = new ConcurrentDictionary<ITypeSymbol, string>[formats.Length];
        for (int i = 0; i < formats.Length; i++)
        {
            _types[i] = new ConcurrentDictionary<ITypeSymbol, string>(SymbolEqualityComparer.IncludeNullability);
        }
    }

    /// <summary>The cache of the compilation <paramref name="symbol"/> belongs to; <paramref name="formats"/> fixes the format slots.</summary>
    public static DisplayNames For(ISymbol symbol, SymbolDisplayFormat[] formats)
        => symbol.ContainingAssembly is { } assembly
            ? s_perCompilation.GetValue(assembly, _ => new DisplayNames(formats))
            : new DisplayNames(formats);

    /// <summary><paramref name="type"/> in the format at <paramref name="slot"/> of the formats given to <see cref="For"/>.</summary>
    public string Type(ITypeSymbol type, int slot)
    {
        ConcurrentDictionary<ITypeSymbol, string> names = _types[slot];
        if (names.TryGetValue(type, out string? known))
        {
            return known;
        }

        string name = type.ToDisplayString(_formats[slot]);
        names.TryAdd(type, name);
        return name;
    }

    public string Namespace(INamespaceSymbol ns)
    {
        if (_namespaces.TryGetValue(ns, out string? known))
        {
            return known;
        }

        string name = ns.ToDisplayString();
        _namespaces.TryAdd(ns, name);
        return name;
    }
}

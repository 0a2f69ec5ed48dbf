using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace DbCore.Infrastructure;

/// <summary>
/// Values PostgreSQL has no type for, as generated query methods bind and read them: unsigned integers as the signed type
/// that holds every value (<see langword="ulong"/> as <see langword="long"/>, refusing what does not fit), enums as their
/// underlying type, collections of those as arrays of that. SQLite stores all of them as its one integer type.
/// </summary>
public static partial class QuerySupport
{
    /// <summary>A <see langword="ulong"/> argument as a <see langword="long"/>, the widest integer PostgreSQL and SQLite store.</summary>
    /// <param name="value">The argument.</param>
    /// <param name="parameter">The method's parameter, for the error.</param>
    /// <exception cref="ArgumentOutOfRangeException">The value is above <see cref="long.MaxValue"/>.</exception>
    public static long ToInt64(ulong value, string parameter)
        => value <= long.MaxValue ? (long)value : throw TooLarge(value, parameter);

    /// <inheritdoc cref="ToInt64(ulong, string)"/>
    public static long? ToInt64(ulong? value, string parameter)
        => value is { } v ? ToInt64(v, parameter) : null;

    /// <summary>A collection argument or column value, element by element converted (to or from the type it is bound as).</summary>
    /// <typeparam name="TFrom">The element type given.</typeparam>
    /// <typeparam name="TTo">The element type wanted.</typeparam>
    /// <param name="values">The collection, or <see langword="null"/>.</param>
    /// <param name="convert">The element conversion.</param>
    [return: NotNullIfNotNull(nameof(values))]
    public static TTo[]? ToArray<TFrom, TTo>(IReadOnlyList<TFrom>? values, Func<TFrom, TTo> convert)
    {
        ArgumentNullException.ThrowIfNull(convert);
        if (values is null)
        {
            return null;
        }

        var result = new TTo[values.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = convert(values[i]);
        }

        return result;
    }

    /// <inheritdoc cref="ToArray{TFrom, TTo}(IReadOnlyList{TFrom}?, Func{TFrom, TTo})"/>
    [return: NotNullIfNotNull(nameof(values))]
    public static List<TTo>? ToList<TFrom, TTo>(IReadOnlyList<TFrom>? values, Func<TFrom, TTo> convert)
    {
        ArgumentNullException.ThrowIfNull(convert);
        if (values is null)
        {
            return null;
        }

        var result = new List<TTo>(values.Count);
        for (int i = 0; i < values.Count; i++)
        {
            result.Add(convert(values[i]));
        }

        return result;
    }

    /// <summary>
    /// An <see langword="object"/> argument as the provider can send it: an enum as its underlying integer, an unsigned
    /// integer as the signed type that holds it; anything else as it is.
    /// </summary>
    /// <param name="value">The argument.</param>
    /// <param name="parameter">The method's parameter, for the error.</param>
    /// <exception cref="ArgumentOutOfRangeException">An unsigned value above <see cref="long.MaxValue"/>.</exception>
    public static object? ToProviderValue(object? value, string parameter)
    {
        if (value is Enum)
        {
            value = Convert.ChangeType(value, Enum.GetUnderlyingType(value.GetType()), CultureInfo.InvariantCulture);
        }

        return value switch
        {
            ushort u => (int)u,
            uint u => (long)u,
            ulong u => ToInt64(u, parameter),
            _ => value,
        };
    }

    private static ArgumentOutOfRangeException TooLarge(ulong value, string parameter)
        => new(parameter, value, $"'{parameter}' is above {long.MaxValue}, the largest integer PostgreSQL (bigint) and SQLite store; pass a value that fits in a long, or a decimal for a numeric column.");
}

using System;
using System.ComponentModel;
using System.Data.Common;
using DbCore.Errors;
using DbCore.Internal;
using Npgsql;

namespace DbCore.Infrastructure;

/// <summary>
/// What the code generated for <see cref="QueryAttribute"/> methods calls: error translation, column matching and the
/// result errors. Not meant to be called by hand; its shape may change with the generator.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class QuerySupport
{
    /// <summary>
    /// The typed error for a provider exception thrown by a query method, or <see langword="null"/> to let it propagate
    /// (DbCore's own exceptions, cancellation, anything that is no database error). Records the SQLSTATE in the session.
    /// A second command while the session's connection still runs one (Npgsql's <see cref="NpgsqlOperationInProgressException"/>)
    /// is the caller's usage error: an <see cref="InvalidOperationException"/> naming the rule, as before the session opened.
    /// </summary>
    /// <param name="session">The session the query ran in.</param>
    /// <param name="exception">What the provider threw.</param>
    public static Exception? Translate(DbSession session, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (exception is NpgsqlOperationInProgressException busy)
        {
            return ThrowHelper.CommandInProgress(session.GetType().Name, busy); // the other call still runs
        }

        session.EndQueryCall(); // this call failed: its command no longer runs

        DbCoreException? translated = ErrorTranslator.Translate(exception, ErrorPhase.Execute, session.EngineName);
        if (translated is not null)
        {
            session.NoteError(translated);
        }

        return translated;
    }

    /// <summary>
    /// An exception filter that never catches: a failed call forgets the command it rented (sets <paramref name="command"/>
    /// to <see langword="null"/>), so that the <c>finally</c> after it does not keep a command whose state the failure may
    /// have left behind. Filters run before <c>finally</c> blocks.
    /// </summary>
    /// <typeparam name="T">The command type.</typeparam>
    /// <param name="command">The generated method's command local.</param>
    /// <returns>Always <see langword="false"/>.</returns>
    public static bool Forget<T>(ref T? command)
        where T : class
    {
        command = null;
        return false;
    }

    /// <summary>
    /// Whether a column name matches a member or parameter name: ASCII case-insensitive, underscores ignored
    /// (<c>user_id</c>, <c>UserId</c> and <c>userid</c> match). A trailing <c>!</c> of the column, the NOT NULL override of
    /// <c>VerifyQueriesAsync</c> (<c>AS "title!"</c>), is ignored.
    /// </summary>
    /// <param name="column">The name the provider reports.</param>
    /// <param name="member">The C# name.</param>
    public static bool NameMatches(string column, string member)
    {
        int columnLength = column.Length > 0 && column[^1] == '!' ? column.Length - 1 : column.Length;
        int i = 0;
        int j = 0;
        while (true)
        {
            while (i < columnLength && column[i] == '_')
            {
                i++;
            }

            while (j < member.Length && member[j] == '_')
            {
                j++;
            }

            if (i == columnLength || j == member.Length)
            {
                return i == columnLength && j == member.Length;
            }

            char a = column[i++];
            char b = member[j++];
            if (a != b && ToUpper(a) != ToUpper(b))
            {
                return false;
            }
        }
    }

    private static char ToUpper(char c) => c is >= 'a' and <= 'z' ? (char)(c - 32) : char.ToUpperInvariant(c);

    /// <summary>
    /// Adds the parameter of a method whose provider is chosen at run time (<c>Auto</c>), once per kept command: on
    /// PostgreSQL a typed <see cref="NpgsqlParameter{T}"/> (a plain <see cref="NpgsqlParameter"/> for <see cref="object"/>),
    /// unnamed when the command text is positional; on SQLite the provider's parameter named <paramref name="name"/>.
    /// </summary>
    /// <typeparam name="T">The value's type as bound (an enum's underlying type).</typeparam>
    /// <param name="command">The command.</param>
    /// <param name="name">The placeholder, <c>@name</c>.</param>
    /// <param name="positional">Whether the PostgreSQL command text uses <c>$n</c> placeholders.</param>
    public static void AddParameter<T>(DbCommand command, string name, bool positional)
    {
        ArgumentNullException.ThrowIfNull(command);
        DbParameter parameter = command is NpgsqlCommand
            ? (typeof(T) == typeof(object) ? new NpgsqlParameter() : new NpgsqlParameter<T>())
            : command.CreateParameter();
        if (!positional || command is not NpgsqlCommand)
        {
            parameter.ParameterName = name;
        }

        command.Parameters.Add(parameter);
    }

    /// <summary>Sets the value of the parameter at <paramref name="index"/> (see <see cref="AddParameter{T}"/>): typed on PostgreSQL, boxed elsewhere; <see langword="null"/> is SQL NULL.</summary>
    /// <typeparam name="T">The value's type as bound.</typeparam>
    /// <param name="command">The command.</param>
    /// <param name="index">The parameter's position.</param>
    /// <param name="value">The value.</param>
    public static void SetParameter<T>(DbCommand command, int index, T? value)
    {
        ArgumentNullException.ThrowIfNull(command);
        DbParameter parameter = command.Parameters[index];
        if (parameter is NpgsqlParameter<T> typed)
        {
            typed.TypedValue = value;
        }
        else
        {
            if (parameter is Microsoft.Data.Sqlite.SqliteParameter && value is System.Collections.IList and not byte[])
            {
                ThrowNoArrays(parameter.ParameterName, value);
            }

            parameter.Value = (object?)value ?? DBNull.Value;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowNoArrays(string parameter, object value)
        => throw new NotSupportedException($"SQLite has no array parameters: '{parameter.TrimStart('@')}' is a {value.GetType().Name}, which a PostgreSQL array (= ANY(@{parameter.TrimStart('@')})) takes. On SQLite pass the values another way: one parameter per value, or a JSON text for json_each.");

    /// <summary>Clears a reference-typed value from a kept PostgreSQL command's parameter, so that the command keeps no argument alive.</summary>
    /// <typeparam name="T">The value's type as bound.</typeparam>
    /// <param name="command">The command.</param>
    /// <param name="index">The parameter's position.</param>
    public static void ClearParameter<T>(DbCommand command, int index)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command is NpgsqlCommand)
        {
            DbParameter parameter = command.Parameters[index];
            if (parameter is NpgsqlParameter<T> typed)
            {
                typed.TypedValue = default;
            }
            else
            {
                parameter.Value = null;
            }
        }
    }

    /// <summary>A one-row method got no row.</summary>
    /// <param name="method">The query method.</param>
    public static QueryResultException NoRows(string method)
        => new($"{method} returned no row, and its return type needs exactly one; return a nullable type (Task<T?>) for zero or one row.", method);

    /// <summary>A one-row method got a second row.</summary>
    /// <param name="method">The query method.</param>
    public static QueryResultException TooManyRows(string method)
        => new($"{method} returned more than one row, and its return type holds one; add a WHERE or LIMIT, or return a list.", method);

    /// <summary>A NULL arrived for a non-nullable member.</summary>
    /// <param name="method">The query method.</param>
    /// <param name="column">The column.</param>
    /// <param name="member">The member (or "the result" for a scalar).</param>
    public static QueryResultException NullColumn(string method, string column, string member)
        => new($"{method}: column '{column}' is NULL, and '{member}' is not nullable; make it nullable or exclude NULL in the query.", method, column, member);

    /// <summary>
    /// Whether an exception thrown while a row was read is the provider refusing a value: a NULL read as a value type, a
    /// value of a type the member cannot hold, a number out of its range, text that does not parse.
    /// </summary>
    /// <param name="exception">The exception.</param>
    public static bool IsUnreadable(Exception exception)
        => exception is InvalidCastException or InvalidOperationException or OverflowException or FormatException
            // A value outside the member type's range (an INTEGER epoch into a DateTime, PostgreSQL's '24:00:00' into a
            // TimeOnly): ArgumentOutOfRangeException. Npgsql's own conversion errors ("Could not read char - string was
            // empty") are NpgsqlExceptions without a server error; the generated code probes each column before it
            // calls one of these a column's fault, and rethrows anything else (a broken connection) as it was.
            or ArgumentException
            or NpgsqlException { InnerException: null } and not PostgresException;

    /// <summary>A column's value cannot be read as its member's type.</summary>
    /// <param name="method">The query method.</param>
    /// <param name="column">The column.</param>
    /// <param name="member">The member (or "the result" for a scalar).</param>
    /// <param name="type">The member's type, as written.</param>
    /// <param name="error">The provider's error.</param>
    public static QueryResultException UnreadableColumn(string method, string column, string member, string type, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        // The provider's message may quote the value (.NET's FormatException does): redacted like every quoted provider text.
        return new(Redaction.RedactText($"{method}: column '{column}' cannot be read as '{type}', the type of '{member}' ({error.GetType().Name}: {error.Message}); change the member's type or cast the column in the query."), method, column, member, error);
    }

    /// <summary>No column of the result maps to a required member.</summary>
    /// <param name="method">The query method.</param>
    /// <param name="member">The member.</param>
    public static QueryResultException MissingColumn(string method, string member)
        => new($"{method}: no column of the result maps to '{member}'; select a column named '{member}' (case and underscores ignored) or alias one with AS.", method, member: member);

    /// <summary>A scalar method's result has no column.</summary>
    /// <param name="method">The query method.</param>
    public static QueryResultException NoColumns(string method)
        => new($"{method}: the result has no column to read.", method);
}

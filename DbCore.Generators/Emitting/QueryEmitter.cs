using System;
using System.CodeDom.Compiler;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using DbCore.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace DbCore.Generators.Emitting;

/// <summary>
/// Turns one <see cref="BoundQuery"/> into the implementing declaration of its partial method, one file per method (so an
/// edit of one query re-emits that file only). Looks at no symbol.
/// </summary>
internal static class QueryEmitter
{
    private const string Support = "global::DbCore.Infrastructure.QuerySupport";

    public static void Emit(SourceProductionContext context, BoundQuery query)
    {
        if (query.Method is { } method)
        {
            context.AddSource(HintName(method.Namespace, method.ClassName, method.MethodName, method.Signature), SourceText.From(Render(method, query.Provider), Encoding.UTF8));
        }
        else if (query.Stub is { } stub)
        {
            context.AddSource(HintName(stub.Namespace, stub.ClassName, stub.MethodName, stub.Signature), SourceText.From(RenderStub(stub), Encoding.UTF8));
        }
    }

    private static string HintName(string ns, string className, string method, EquatableArray<SignatureParameterSpec> signature)
    {
        string name = (ns.Length == 0 ? string.Empty : ns + ".") + className + "." + method + "." + SignatureHash(signature) + ".Query.g.cs";
        return name.Replace("@", string.Empty);
    }

    /// <summary>Overloads share a name: a short hash of the parameter types tells them apart.</summary>
    private static string SignatureHash(EquatableArray<SignatureParameterSpec> signature)
    {
        uint hash = 2166136261;
        foreach (SignatureParameterSpec parameter in signature)
        {
            foreach (char c in parameter.TypeName)
            {
                hash = (hash ^ c) * 16777619;
            }
        }

        return hash.ToString("x8", CultureInfo.InvariantCulture);
    }

    private sealed class Provider
    {
        public Provider(ProviderKind kind) => Kind = kind;

        public ProviderKind Kind { get; }

        public string Command => Kind switch
        {
            ProviderKind.PostgreSql => "global::Npgsql.NpgsqlCommand",
            ProviderKind.Sqlite => "global::Microsoft.Data.Sqlite.SqliteCommand",
            _ => "global::System.Data.Common.DbCommand",
        };

        public string Reader => Kind switch
        {
            ProviderKind.PostgreSql => "global::Npgsql.NpgsqlDataReader",
            ProviderKind.Sqlite => "global::Microsoft.Data.Sqlite.SqliteDataReader",
            _ => "global::System.Data.Common.DbDataReader",
        };
    }

    public static string Render(QueryMethodSpec spec, ProviderKind providerKind)
    {
        var provider = new Provider(providerKind);
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        using var w = new IndentedTextWriter(text, "    ");
        bool hasNamespace = GeneratedSource.Begin(w, spec.Namespace);

        w.WriteLine($"partial class {Identifier.Escape(spec.ClassName)}");
        w.WriteLine("{");
        w.Indent++;
        bool positional = providerKind == ProviderKind.PostgreSql && spec.UsesPositional;
        // PostgreSQL, pinned or chosen at run time, but not a stream (whose reader outlives the call): the command and its
        // parameters are kept in a per-thread field for the next call on that thread (DbSession.RentCommand). On SQLite an
        // Auto method's command stays with the connection, like a pinned one's.
        string? slot = providerKind != ProviderKind.Sqlite && spec.Shape != ResultShape.Stream
            ? "__" + spec.MethodName + "_" + SignatureHash(spec.Signature) + "_Command"
            : null;
        if (slot is not null)
        {
            w.WriteLine("[global::System.ThreadStaticAttribute]");
            w.WriteLine($"private static global::Npgsql.NpgsqlCommand? {slot};");
            w.WriteLineNoTabs(string.Empty);
        }

        string sql = positional ? spec.PositionalSql : spec.Sql;
        // A local constant, not a field: overloads of one method name each declare their own.
        const string sqlField = "__sql";
        w.WriteLine(GeneratedSource.GeneratedCodeAttribute);
        string token = spec.CancellationTokenName ?? "global::System.Threading.CancellationToken.None";
        string parameters = string.Join(", ", spec.Signature.Select(p =>
            (spec.Shape == ResultShape.Stream && p.IsCancellationToken && !p.HasEnumeratorCancellation ? "[global::System.Runtime.CompilerServices.EnumeratorCancellationAttribute] " : string.Empty)
            + p.TypeName + " " + p.Name));
        if (spec.Shape != ResultShape.Stream && !spec.ReturnsValueTask && providerKind != ProviderKind.Sqlite && spec.ReturnTypeName.StartsWith(TaskType, StringComparison.Ordinal))
        {
            // A Task method returns its ValueTask body's Task: a call that completes asynchronously allocates that small Task,
            // not a whole state machine box (the body's box is pooled); one that completes synchronously, what an async Task
            // method would. Not on SQLite, whose calls complete synchronously: there the Task method is the body itself.
            string core = "__" + spec.MethodName + "_Core";
            w.WriteLine($"{spec.Accessibility} partial {spec.ReturnTypeName} {Identifier.Escape(spec.MethodName)}({parameters})");
            w.Indent++;
            w.WriteLine($"=> {core}({string.Join(", ", spec.Signature.Select(p => p.Name))}).AsTask();");
            w.Indent--;
            w.WriteLineNoTabs(string.Empty);
            w.WriteLine(GeneratedSource.GeneratedCodeAttribute);
            WritePoolingBuilder(w, spec);
            // Task<T>? is Task<T> annotated: the body's type drops the '?' (ValueTask<T>? would be a Nullable<ValueTask<T>>).
            w.WriteLine($"private async global::System.Threading.Tasks.ValueTask{spec.ReturnTypeName.Substring(TaskType.Length).TrimEnd('?')} {core}({parameters})");
        }
        else
        {
            if (spec.ReturnsValueTask)
            {
                WritePoolingBuilder(w, spec);
            }

            w.WriteLine($"{spec.Accessibility} async partial {spec.ReturnTypeName} {Identifier.Escape(spec.MethodName)}({parameters})");
        }

        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"const string {sqlField} = {SymbolDisplay.FormatLiteral(sql, quote: true)};");
        w.WriteLine($"await OpenForStatementAsync({sqlField}, {token}).ConfigureAwait(false);");
        if (spec.Shape == ResultShape.Stream)
        {
            WriteStreamBody(w, spec, provider, sqlField, token, positional);
        }
        else if (slot is not null)
        {
            WriteKeptCommandBody(w, spec, provider, slot, sqlField, token);
        }
        else
        {
            w.WriteLine("try");
            w.WriteLine("{");
            w.Indent++;
            WriteCommand(w, spec, provider, sqlField, positional);
            WriteExecution(w, spec, provider, token);
            w.Indent--;
            w.WriteLine("}");
            WriteCatch(w);
        }

        w.Indent--;
        w.WriteLine("}");
        w.Indent--;
        w.WriteLine("}");
        GeneratedSource.End(w, hasNamespace);
        return text.ToString();
    }

    /// <summary>
    /// The body of a method whose command is kept between calls: rented from the slot (or, for an Auto method on SQLite,
    /// from the connection), its parameters added on the first call and set on every call, and put back in <c>finally</c>
    /// unless the call failed: an always-false exception filter forgets the command first (filters run before
    /// <c>finally</c>), so a command in whatever state a failure left it is dropped.
    /// </summary>
    private static void WriteKeptCommandBody(IndentedTextWriter w, QueryMethodSpec spec, Provider provider, string slot, string sqlField, string token)
    {
        bool pinned = provider.Kind == ProviderKind.PostgreSql;
        w.WriteLine($"{provider.Command}? __command = null;");
        w.WriteLine("try");
        w.WriteLine("{");
        w.Indent++;
        if (pinned)
        {
            w.WriteLine($"__command = RentCommand(ref {slot}, {sqlField});");
            WriteReusedParameters(w, spec, spec.UsesPositional);
        }
        else
        {
            string postgresSql = spec.UsesPositional ? SymbolDisplay.FormatLiteral(spec.PositionalSql, quote: true) : sqlField;
            w.WriteLine($"__command = RentCommand(ref {slot}, {sqlField}, {postgresSql});");
            WriteAutoParameters(w, spec);
        }

        WriteExecution(w, spec, provider, token);
        w.Indent--;
        w.WriteLine("}");
        // Never entered (the filter returns false); the throw tells the compiler so.
        w.WriteLine($"catch (global::System.Exception) when ({Support}.Forget(ref __command))");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("throw;");
        w.Indent--;
        w.WriteLine("}");
        WriteCatch(w);
        w.WriteLine("finally");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("if (__command is not null)");
        w.WriteLine("{");
        w.Indent++;
        // The slot keeps no reference to the call's arguments.
        for (int i = 0; i < spec.Parameters.Count; i++)
        {
            QueryParameterSpec parameter = spec.Parameters[i];
            string index = i.ToString(CultureInfo.InvariantCulture);
            if (parameter.Value.IsValueType)
            {
                continue;
            }

            if (!pinned)
            {
                w.WriteLine($"{Support}.ClearParameter<{ParameterType(parameter)}>(__command, {index});");
            }
            else
            {
                w.WriteLine(parameter.Value.TypeName == "object"
                    ? $"__command.Parameters[{index}].Value = null;"
                    : $"((global::Npgsql.NpgsqlParameter<{ParameterType(parameter)}>)__command.Parameters[{index}]).TypedValue = default;");
            }
        }

        w.WriteLine($"ReturnCommand(ref {slot}, __command);");
        w.Indent--;
        w.WriteLine("}");
        w.Indent--;
        w.WriteLine("}");
    }

    /// <summary>
    /// An Auto method's parameters: added once per kept command (every call on SQLite, whose kept command comes without
    /// parameters), typed on PostgreSQL and boxed on SQLite by <c>QuerySupport</c>, which looks at the command it gets.
    /// </summary>
    private static void WriteAutoParameters(IndentedTextWriter w, QueryMethodSpec spec)
    {
        if (spec.Parameters.Count == 0)
        {
            return;
        }

        string positional = spec.UsesPositional ? "true" : "false";
        w.WriteLine("if (__command.Parameters.Count == 0)");
        w.WriteLine("{");
        w.Indent++;
        foreach (QueryParameterSpec parameter in spec.Parameters)
        {
            w.WriteLine($"{Support}.AddParameter<{ParameterType(parameter)}>(__command, {SymbolDisplay.FormatLiteral("@" + parameter.Placeholder, quote: true)}, {positional});");
        }

        w.Indent--;
        w.WriteLine("}");
        for (int i = 0; i < spec.Parameters.Count; i++)
        {
            QueryParameterSpec parameter = spec.Parameters[i];
            w.WriteLine($"{Support}.SetParameter<{ParameterType(parameter)}>(__command, {i.ToString(CultureInfo.InvariantCulture)}, {ParameterValue(parameter)});");
        }
    }

    private const string TaskType = "global::System.Threading.Tasks.Task";

    /// <summary>A ValueTask method reuses its state machine box instead of allocating one per call that completes asynchronously.</summary>
    private static void WritePoolingBuilder(IndentedTextWriter w, QueryMethodSpec spec)
        => w.WriteLine(spec.Shape == ResultShape.None
            ? "[global::System.Runtime.CompilerServices.AsyncMethodBuilderAttribute(typeof(global::System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]"
            : "[global::System.Runtime.CompilerServices.AsyncMethodBuilderAttribute(typeof(global::System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]");

    private static void WriteCatch(IndentedTextWriter w)
    {
        w.WriteLine($"catch (global::System.Exception __exception) when ({Support}.Translate(this, __exception) is {{ }} __translated)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("throw __translated;");
        w.Indent--;
        w.WriteLine("}");
    }

    private static void WriteCommand(IndentedTextWriter w, QueryMethodSpec spec, Provider provider, string sqlField, bool positional)
    {
        // SQLite, but not a stream (whose reader outlives the call): the session's connection keeps the command and its
        // prepared statement for the next call with this SQL, so the method does not dispose it.
        if (provider.Kind == ProviderKind.Sqlite && spec.Shape != ResultShape.Stream)
        {
            w.WriteLine($"{provider.Command} __command = CreateReusableCommand({sqlField});");
        }
        else
        {
            w.WriteLine(provider.Kind == ProviderKind.Auto
                ? $"using global::System.Data.Common.DbCommand __command = CreateCommand({sqlField});"
                : $"using {provider.Command} __command = CreateCommand({sqlField});");
        }

        foreach (QueryParameterSpec parameter in spec.Parameters)
        {
            string value = ParameterValue(parameter);
            string placeholder = SymbolDisplay.FormatLiteral("@" + parameter.Placeholder, quote: true);
            switch (provider.Kind)
            {
                case ProviderKind.PostgreSql when parameter.Value.TypeName != "object":
                    string type = ParameterType(parameter);
                    w.WriteLine(positional
                        ? $"__command.Parameters.Add(new global::Npgsql.NpgsqlParameter<{type}> {{ TypedValue = {value} }});"
                        : $"__command.Parameters.Add(new global::Npgsql.NpgsqlParameter<{type}>({placeholder}, {value}));");
                    break;
                case ProviderKind.PostgreSql:
                    w.WriteLine(positional
                        ? $"__command.Parameters.Add(new global::Npgsql.NpgsqlParameter {{ Value = (object?){value} ?? global::System.DBNull.Value }});"
                        : $"__command.Parameters.Add(new global::Npgsql.NpgsqlParameter({placeholder}, (object?){value} ?? global::System.DBNull.Value));");
                    break;
                case ProviderKind.Sqlite:
                    w.WriteLine($"__command.Parameters.AddWithValue({placeholder}, (object?){value} ?? global::System.DBNull.Value);");
                    break;
                default:
                    w.WriteLine($"{Support}.AddParameter<{ParameterType(parameter)}>(__command, {placeholder}, false);");
                    w.WriteLine($"{Support}.SetParameter<{ParameterType(parameter)}>(__command, __command.Parameters.Count - 1, {value});");
                    break;
            }
        }
    }

    /// <summary>
    /// The type a parameter is bound as: its own, or for a type PostgreSQL has no mapping for, a signed integer type that
    /// holds every value (<see cref="WireOf"/>), and for a collection of those, an array of it.
    /// </summary>
    private static string ParameterType(QueryParameterSpec parameter)
        => parameter.Value.Element is { IsValueType: false, IsNullable: true } element && ElementWireOf(element) is null
            ? AnnotatedCollection(parameter.Value, element)
            : WireType(parameter.Value) + (parameter.Value.IsNullable && parameter.Value.IsValueType ? "?" : string.Empty);

    /// <summary>
    /// A collection of a nullable reference type as the signature declares it (<c>string?[]</c>, <c>List&lt;string?&gt;</c>):
    /// the provider parameter's type argument keeps the element's annotation, or the argument does not convert (CS8619/CS8620).
    /// </summary>
    private static string AnnotatedCollection(ValueSpec collection, ValueSpec element)
        => collection.TypeName.StartsWith("global::System.Collections.Generic.List<", StringComparison.Ordinal)
            ? $"global::System.Collections.Generic.List<{element.TypeName}?>"
            : element.TypeName + "?[]";

    private static string ParameterValue(QueryParameterSpec parameter)
    {
        ValueSpec value = parameter.Value;
        string name = SymbolDisplay.FormatLiteral(parameter.Name.TrimStart('@'), quote: true);
        if (value.TypeName == "object")
        {
            return $"{Support}.ToProviderValue({parameter.Name}, {name})";
        }

        if (value.Element is { } element && ElementWireOf(element) is { } elementWire)
        {
            return $"{Support}.ToArray({parameter.Name}, static ({Nullable(element)} __v) => {ToWire(element, "__v", name, elementWire)})";
        }

        return WireOf(value) is null ? parameter.Name : ToWire(value, parameter.Name, name);
    }

    /// <summary>
    /// The signed type a scalar is bound and read as when PostgreSQL has no mapping for its own: an enum's underlying type,
    /// <see langword="int"/> for <see langword="ushort"/>, <see langword="long"/> for <see langword="uint"/> and
    /// <see langword="ulong"/> (values above <see cref="long.MaxValue"/> are refused). SQLite stores all of them as its one
    /// integer type. Null when the type is bound as itself.
    /// </summary>
    private static string? WireOf(ValueSpec value)
        => (value.EnumUnderlying ?? value.TypeName) switch
        {
            "ushort" => "int",
            "uint" or "ulong" => "long",
            _ => value.EnumUnderlying,
        };

    /// <summary>
    /// What an element of an array or list is sent and read as: <see cref="WireOf"/>, except that a <see langword="byte"/>
    /// enum's element is a <see langword="short"/> (a <c>byte[]</c> would go as <c>bytea</c>, not <c>smallint[]</c>).
    /// </summary>
    private static string? ElementWireOf(ValueSpec element) => element.EnumUnderlying == "byte" ? "short" : WireOf(element);

    private static bool IsUnsigned(ValueSpec value) => value.TypeName is "ushort" or "uint" or "ulong";

    /// <summary>
    /// An enum whose underlying type has no reader getter (<c>enum Flags : uint</c>, <c>enum Offset : sbyte</c>): read as a
    /// <see langword="long"/> and narrowed to that type with an overflow check.
    /// </summary>
    private static bool HasNarrowedUnderlying(ValueSpec value) => value.EnumUnderlying is "sbyte" or "ushort" or "uint" or "ulong";

    /// <summary>A value's type as bound, without the nullable mark of the value itself: <c>int[]</c> for <c>List&lt;Priority&gt;</c>.</summary>
    private static string WireType(ValueSpec value)
        => value.Element is { } element && ElementWireOf(element) is { } elementWire
            ? elementWire + (element.IsNullable && element.IsValueType ? "?" : string.Empty) + "[]"
            : WireOf(value) ?? value.TypeName;

    private static string Nullable(ValueSpec value) => value.TypeName + (value.IsNullable && value.IsValueType ? "?" : string.Empty);

    private static string ToWire(ValueSpec value, string expression, string parameterLiteral, string? wire = null)
    {
        string nullable = value.IsNullable && value.IsValueType ? "?" : string.Empty;
        return value.TypeName == "ulong" ? $"{Support}.ToInt64({expression}, {parameterLiteral})"
            : value.EnumUnderlying == "ulong" ? $"{Support}.ToInt64((ulong{nullable}){expression}, {parameterLiteral})"
            : $"({wire ?? WireOf(value)}{nullable}){expression}";
    }

    /// <summary>An element read from an array back to its type: narrowed with an overflow check where the wire type is wider.</summary>
    private static string FromWire(ValueSpec value, string expression)
        => IsUnsigned(value) ? $"checked(({Nullable(value)}){expression})"
            : HasNarrowedUnderlying(value) || value.EnumUnderlying == "byte" ? $"({Nullable(value)})checked(({value.EnumUnderlying}{(value.IsNullable ? "?" : string.Empty)}){expression})"
            : $"({Nullable(value)}){expression}";

    /// <summary>
    /// A kept PostgreSQL command: its parameters are added on its first call (the slot belongs to this method, so a kept
    /// command has exactly these), and every call sets their values.
    /// </summary>
    private static void WriteReusedParameters(IndentedTextWriter w, QueryMethodSpec spec, bool positional)
    {
        if (spec.Parameters.Count == 0)
        {
            return;
        }

        w.WriteLine("if (__command.Parameters.Count == 0)");
        w.WriteLine("{");
        w.Indent++;
        foreach (QueryParameterSpec parameter in spec.Parameters)
        {
            string type = parameter.Value.TypeName == "object" ? "global::Npgsql.NpgsqlParameter" : $"global::Npgsql.NpgsqlParameter<{ParameterType(parameter)}>";
            string name = positional ? string.Empty : $" {{ ParameterName = {SymbolDisplay.FormatLiteral("@" + parameter.Placeholder, quote: true)} }}";
            w.WriteLine(positional ? $"__command.Parameters.Add(new {type}());" : $"__command.Parameters.Add(new {type}{name});");
        }

        w.Indent--;
        w.WriteLine("}");
        for (int i = 0; i < spec.Parameters.Count; i++)
        {
            QueryParameterSpec parameter = spec.Parameters[i];
            w.WriteLine(parameter.Value.TypeName == "object"
                ? $"__command.Parameters[{i}].Value = (object?){ParameterValue(parameter)} ?? global::System.DBNull.Value;"
                : $"((global::Npgsql.NpgsqlParameter<{ParameterType(parameter)}>)__command.Parameters[{i}]).TypedValue = {ParameterValue(parameter)};");
        }
    }

    /// <summary>
    /// The statement's execution and reading. PostgreSQL and an unpinned provider: the provider's async API. SQLite: the
    /// synchronous API, which is what Microsoft.Data.Sqlite's async methods run (each returns a completed task, after a
    /// cancellation check that the emitted code makes itself, before the statement and before each row): the same work
    /// without a task per statement or per row.
    /// </summary>
    private static void WriteExecution(IndentedTextWriter w, QueryMethodSpec spec, Provider provider, string token)
    {
        bool sync = provider.Kind == ProviderKind.Sqlite;
        string cancelled = spec.CancellationTokenName is { } tokenName ? $"{tokenName}.ThrowIfCancellationRequested();" : string.Empty;
        if (sync && cancelled.Length > 0)
        {
            w.WriteLine(cancelled);
        }

        bool noRows = spec.Shape is ResultShape.None or ResultShape.RowsAffected;
        if (noRows && (spec.UsesPositional || provider.Kind == ProviderKind.PostgreSql))
        {
            string execute = sync ? "__command.ExecuteNonQuery()" : $"await __command.ExecuteNonQueryAsync({token}).ConfigureAwait(false)";
            w.WriteLine(spec.Shape == ResultShape.None ? execute + ";" : "return " + execute + ";");
            return;
        }

        if (sync)
        {
            w.WriteLine($"using ({provider.Reader} __reader = __command.ExecuteReader())");
        }
        else
        {
            w.WriteLine($"{provider.Reader} __reader = await __command.ExecuteReaderAsync({token}).ConfigureAwait(false);");
            w.WriteLine("await using (global::System.Threading.Tasks.TaskAsyncEnumerableExtensions.ConfigureAwait(__reader, false))");
        }

        w.WriteLine("{");
        w.Indent++;
        if (noRows)
        {
            // Several statements on SQLite (or maybe SQLite): ExecuteNonQuery stops at a statement that returns rows and
            // drops the errors of the ones after it; reading every result raises them.
            WriteDrain(w, spec, provider, sync, token);
            if (spec.Shape == ResultShape.RowsAffected)
            {
                w.WriteLine("return __reader.RecordsAffected;");
            }

            w.Indent--;
            w.WriteLine("}");
            return;
        }

        RowSpec row = spec.Row!;
        string read = sync ? "__reader.Read()" : $"await __reader.ReadAsync({token}).ConfigureAwait(false)";
        string name = SymbolDisplay.FormatLiteral(spec.DisplayName, quote: true);
        switch (spec.Shape)
        {
            case ResultShape.Single:
            case ResultShape.SingleOrDefault:
                w.WriteLine($"if (!{read})");
                w.WriteLine("{");
                w.Indent++;
                if (spec.Shape == ResultShape.Single)
                {
                    w.WriteLine($"throw {Support}.NoRows({name});");
                }
                else
                {
                    WriteDrain(w, spec, provider, sync, token);
                    w.WriteLine("return default;");
                }

                w.Indent--;
                w.WriteLine("}");
                WriteOrdinals(w, spec, row);
                WriteRow(w, spec, row, "__row");
                w.WriteLine($"if ({read})");
                w.WriteLine("{");
                w.Indent++;
                w.WriteLine($"throw {Support}.TooManyRows({name});");
                w.Indent--;
                w.WriteLine("}");
                WriteDrain(w, spec, provider, sync, token);
                w.WriteLine("return __row;");
                break;
            default:
                w.WriteLine($"var __rows = new global::System.Collections.Generic.List<{row.VariableTypeName}>();");
                w.WriteLine($"if ({read})");
                w.WriteLine("{");
                w.Indent++;
                WriteOrdinals(w, spec, row);
                w.WriteLine("do");
                w.WriteLine("{");
                w.Indent++;
                WriteRow(w, spec, row, "__row");
                w.WriteLine("__rows.Add(__row);");
                if (sync && cancelled.Length > 0)
                {
                    w.WriteLine(cancelled);
                }

                w.Indent--;
                w.WriteLine("}");
                w.WriteLine($"while ({read});");
                w.Indent--;
                w.WriteLine("}");
                WriteDrain(w, spec, provider, sync, token);
                w.WriteLine(spec.Shape == ResultShape.Array ? "return __rows.ToArray();" : "return __rows;");
                break;
        }

        w.Indent--;
        w.WriteLine("}");
    }

    private static void WriteStreamBody(IndentedTextWriter w, QueryMethodSpec spec, Provider provider, string sqlField, string token, bool positional)
    {
        // yield is not allowed inside a try with a catch: each provider call is wrapped on its own.
        RowSpec row = spec.Row!;
        WriteCommand(w, spec, provider, sqlField, positional);
        w.WriteLine($"{provider.Reader} __reader;");
        w.WriteLine("try");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"__reader = await __command.ExecuteReaderAsync({token}).ConfigureAwait(false);");
        w.Indent--;
        w.WriteLine("}");
        WriteCatch(w);

        // Not 'await using': disposing the reader reads the rest of the result (Npgsql), where a later row's or statement's
        // error surfaces; the finally translates it like any other.
        w.WriteLine("bool __readToEnd = false;");
        w.WriteLine("try");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("bool __first = true;");
        DeclareOrdinals(w, row);

        w.WriteLine("while (true)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"{row.VariableTypeName} __row;");
        w.WriteLine("try");
        w.WriteLine("{");
        w.Indent++;
        if (spec.CancellationTokenName is { } tokenName && provider.Kind != ProviderKind.Sqlite)
        {
            // The consumer sets the pace: a token cancelled between rows stops the stream at the next row, even when the
            // provider has that row buffered already (Npgsql looks at the token only when it waits for the network;
            // Microsoft.Data.Sqlite's ReadAsync checks it first, so a pinned SQLite stream needs no check of its own).
            w.WriteLine($"{tokenName}.ThrowIfCancellationRequested();");
        }

        w.WriteLine($"if (!await __reader.ReadAsync({token}).ConfigureAwait(false))");
        w.WriteLine("{");
        w.Indent++;
        WriteDrain(w, spec, provider, sync: false, token);
        w.WriteLine("__readToEnd = true;");
        w.WriteLine("break;");
        w.Indent--;
        w.WriteLine("}");
        w.WriteLine("if (__first)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("__first = false;");
        WriteOrdinalResolution(w, spec, row);
        w.Indent--;
        w.WriteLine("}");
        WriteRowInto(w, spec, row, "__row");
        w.Indent--;
        w.WriteLine("}");
        WriteCatch(w);
        w.WriteLine("yield return __row;");
        w.Indent--;
        w.WriteLine("}");
        w.Indent--;
        w.WriteLine("}");
        w.WriteLine("finally");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("try");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("await __reader.DisposeAsync().ConfigureAwait(false);");
        w.Indent--;
        w.WriteLine("}");
        w.WriteLine($"catch (global::System.Exception __exception) when ({Support}.Translate(this, __exception) is {{ }} __translated)");
        w.WriteLine("{");
        w.Indent++;
        // Left early (a break, the caller's own exception, a cancelled token): Translate has recorded the error in the
        // session, whose next statement or commit reports it; the caller's exception is not replaced by it.
        w.WriteLine("if (__readToEnd)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("throw __translated;");
        w.Indent--;
        w.WriteLine("}");
        w.Indent--;
        w.WriteLine("}");
        w.Indent--;
        w.WriteLine("}");
    }

    /// <summary>
    /// SQL of several statements, on SQLite or a provider chosen at run time: runs the statements after the one read, inside
    /// the translating try. Microsoft.Data.Sqlite runs them when its reader is disposed too, but drops their errors there;
    /// <c>NextResult</c> raises them. Npgsql's reader raises them on dispose, so a pinned PostgreSQL method needs nothing.
    /// </summary>
    private static void WriteDrain(IndentedTextWriter w, QueryMethodSpec spec, Provider provider, bool sync, string token)
    {
        if (spec.UsesPositional || provider.Kind == ProviderKind.PostgreSql)
        {
            return; // one statement (UsesPositional is exactly that), or Npgsql
        }

        w.WriteLine(sync ? "while (__reader.NextResult())" : $"while (await __reader.NextResultAsync({token}).ConfigureAwait(false))");
        w.WriteLine("{");
        w.WriteLine("}");
    }

    private static string[] OrdinalNames(RowSpec row)
        => row.Scalar is not null ? System.Array.Empty<string>() : row.Members.Select((_, i) => "__c" + i.ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>
    /// Column ordinals: from the select list when the SQL says them (checked against the column count), else found once per
    /// result by name (case and underscores ignored); a missing required member fails here.
    /// </summary>
    private static void WriteOrdinals(IndentedTextWriter w, QueryMethodSpec spec, RowSpec row)
    {
        DeclareOrdinals(w, row);
        WriteOrdinalResolution(w, spec, row);
    }

    private static void DeclareOrdinals(IndentedTextWriter w, RowSpec row)
    {
        string[] names = OrdinalNames(row);
        for (int i = 0; i < names.Length; i++)
        {
            int value = row.StaticOrdinals.Count == names.Length ? row.StaticOrdinals[i] : -1;
            w.WriteLine($"int {names[i]} = {value.ToString(CultureInfo.InvariantCulture)};");
        }
    }

    private static void WriteOrdinalResolution(IndentedTextWriter w, QueryMethodSpec spec, RowSpec row)
    {
        string name = SymbolDisplay.FormatLiteral(spec.DisplayName, quote: true);
        if (row.Scalar is not null)
        {
            w.WriteLine("if (__reader.FieldCount == 0)");
            w.WriteLine("{");
            w.Indent++;
            w.WriteLine($"throw {Support}.NoColumns({name});");
            w.Indent--;
            w.WriteLine("}");
            return;
        }

        bool known = row.StaticOrdinals.Count == row.Members.Count;
        if (known)
        {
            // The select list was read at build time; a different column count means it was not what it seemed.
            w.WriteLine($"if (__reader.FieldCount != {row.StaticColumnCount.ToString(CultureInfo.InvariantCulture)})");
            w.WriteLine("{");
            w.Indent++;
            for (int i = 0; i < row.Members.Count; i++)
            {
                w.WriteLine($"__c{i} = -1;");
            }
        }

        w.WriteLine("for (int __i = 0; __i < __reader.FieldCount; __i++)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("string __name = __reader.GetName(__i);");
        for (int i = 0; i < row.Members.Count; i++)
        {
            MemberSpec member = row.Members[i];
            w.WriteLine($"{(i == 0 ? "if" : "else if")} (__c{i} < 0 && {Support}.NameMatches(__name, {SymbolDisplay.FormatLiteral(member.Name, quote: true)}))");
            w.WriteLine("{");
            w.Indent++;
            w.WriteLine($"__c{i} = __i;");
            w.Indent--;
            w.WriteLine("}");
        }

        w.Indent--;
        w.WriteLine("}");
        for (int i = 0; i < row.Members.Count; i++)
        {
            MemberSpec member = row.Members[i];
            if (member.IsOptional)
            {
                continue;
            }

            w.WriteLine($"if (__c{i} < 0)");
            w.WriteLine("{");
            w.Indent++;
            w.WriteLine($"throw {Support}.MissingColumn({name}, {SymbolDisplay.FormatLiteral(member.Name, quote: true)});");
            w.Indent--;
            w.WriteLine("}");
        }

        if (known)
        {
            w.Indent--;
            w.WriteLine("}");
        }
    }

    private static void WriteRow(IndentedTextWriter w, QueryMethodSpec spec, RowSpec row, string variable)
    {
        w.WriteLine($"{row.VariableTypeName} {variable};");
        WriteRowInto(w, spec, row, variable);
    }

    /// <summary>
    /// Builds one row. Non-nullable value-type columns are read without an IsDBNull check (both providers throw on NULL
    /// there). When a read fails, a cold catch finds the column: a NULL where none may go, or a value its member's type
    /// cannot hold (a text column into a <c>long</c>, a negative number into a <c>uint</c>), and throws the typed error
    /// naming the method, the column and the member.
    /// </summary>
    private static void WriteRowInto(IndentedTextWriter w, QueryMethodSpec spec, RowSpec row, string variable)
    {
        var columns = new System.Collections.Generic.List<(string Ordinal, string Member, ValueSpec Value)>();
        if (row.Scalar is { } scalar)
        {
            columns.Add(("0", "the result", scalar));
        }
        else
        {
            for (int i = 0; i < row.Members.Count; i++)
            {
                columns.Add(("__c" + i.ToString(CultureInfo.InvariantCulture), row.Members[i].Name, row.Members[i].Value));
            }
        }

        string name = SymbolDisplay.FormatLiteral(spec.DisplayName, quote: true);
        w.WriteLine("try");
        w.WriteLine("{");
        w.Indent++;
        WriteRowBody(w, spec, row, variable);
        w.Indent--;
        w.WriteLine("}");
        w.WriteLine($"catch (global::System.Exception __read) when ({Support}.IsUnreadable(__read))");
        w.WriteLine("{");
        w.Indent++;
        foreach ((string ordinal, string member, ValueSpec value) in columns.Where(c => IsUncheckedRead(c.Value)))
        {
            w.WriteLine(ordinal == "0" ? "if (__reader.IsDBNull(0))" : $"if ({ordinal} >= 0 && __reader.IsDBNull({ordinal}))");
            w.WriteLine("{");
            w.Indent++;
            w.WriteLine($"throw {Support}.NullColumn({name}, __reader.GetName({ordinal}), {SymbolDisplay.FormatLiteral(member, quote: true)});");
            w.Indent--;
            w.WriteLine("}");
        }

        // Not a NULL: read each column again to find the one that fails.
        foreach ((string ordinal, string member, ValueSpec value) in columns)
        {
            bool optional = ordinal != "0";
            if (optional)
            {
                w.WriteLine($"if ({ordinal} >= 0)");
                w.WriteLine("{");
                w.Indent++;
            }

            w.WriteLine("try");
            w.WriteLine("{");
            w.Indent++;
            // A named local, not a discard: a parameter named '_' would turn '_ = ...' into an assignment to it.
            w.WriteLine($"var __probe = {Read(spec, value, ordinal, member)};");
            w.Indent--;
            w.WriteLine("}");
            w.WriteLine($"catch (global::System.Exception __column) when ({Support}.IsUnreadable(__column))");
            w.WriteLine("{");
            w.Indent++;
            w.WriteLine($"throw {Support}.UnreadableColumn({name}, __reader.GetName({ordinal}), {SymbolDisplay.FormatLiteral(member, quote: true)}, {SymbolDisplay.FormatLiteral(Display(value), quote: true)}, __column);");
            w.Indent--;
            w.WriteLine("}");
            if (optional)
            {
                w.Indent--;
                w.WriteLine("}");
            }
        }

        w.WriteLine("throw;");
        w.Indent--;
        w.WriteLine("}");
    }

    /// <summary>The member's C# type as its user wrote it, for the error: <c>uint</c>, <c>Priority?</c>, <c>List&lt;string&gt;</c>.</summary>
    private static string Display(ValueSpec value)
        => value.TypeName.Replace("global::System.Collections.Generic.", string.Empty).Replace("global::System.", string.Empty)
            .Replace("global::", string.Empty) + (value.IsNullable && value.IsValueType ? "?" : string.Empty);

    /// <summary>A non-nullable value type: read without IsDBNull (the getter throws on NULL).</summary>
    private static bool IsUncheckedRead(ValueSpec value) => value.IsValueType && !value.IsNullable && !value.IsCollection;

    private static void WriteRowBody(IndentedTextWriter w, QueryMethodSpec spec, RowSpec row, string variable)
    {
        if (row.Scalar is { } scalar)
        {
            w.WriteLine($"{variable} = {Read(spec, scalar, "0", "the result")};");
            return;
        }

        if (row.IsTuple)
        {
            w.WriteLine($"{variable} = (");
            w.Indent++;
            for (int i = 0; i < row.Members.Count; i++)
            {
                w.WriteLine(Read(spec, row.Members[i].Value, "__c" + i, row.Members[i].Name) + (i < row.Members.Count - 1 ? "," : ");"));
            }

            w.Indent--;
            return;
        }

        string[] arguments = row.Members.Select((m, i) => (m, i)).Where(x => x.m.Binding == MemberBinding.Constructor)
            .Select(x => x.m.DefaultValue is { } fallback
                ? $"__c{x.i} < 0 ? {fallback} : ({Read(spec, x.m.Value, "__c" + x.i, x.m.Name)})"
                : Read(spec, x.m.Value, "__c" + x.i, x.m.Name)).ToArray();
        var initializers = row.Members.Select((m, i) => (m, i)).Where(x => x.m.Binding == MemberBinding.Initializer).ToList();
        if (arguments.Length == 0)
        {
            w.WriteLine($"{variable} = new {row.TypeName}(){(initializers.Count == 0 ? ";" : string.Empty)}");
        }
        else
        {
            w.WriteLine($"{variable} = new {row.TypeName}(");
            w.Indent++;
            for (int i = 0; i < arguments.Length; i++)
            {
                w.WriteLine(arguments[i] + (i < arguments.Length - 1 ? "," : initializers.Count == 0 ? ");" : ")"));
            }

            w.Indent--;
        }

        if (initializers.Count > 0)
        {
            w.WriteLine("{");
            w.Indent++;
            foreach ((MemberSpec m, int i) in initializers)
            {
                w.WriteLine($"{Identifier.Escape(m.Name)} = {Read(spec, m.Value, "__c" + i, m.Name)},");
            }

            w.Indent--;
            w.WriteLine("};");
        }

        for (int i = 0; i < row.Members.Count; i++)
        {
            MemberSpec m = row.Members[i];
            if (m.Binding == MemberBinding.Assignment)
            {
                w.WriteLine($"if (__c{i} >= 0)");
                w.WriteLine("{");
                w.Indent++;
                w.WriteLine($"{variable}.{Identifier.Escape(m.Name)} = {Read(spec, m.Value, "__c" + i, m.Name)};");
                w.Indent--;
                w.WriteLine("}");
            }
        }
    }

    /// <summary>The expression that reads one column: a typed getter, the NULL check first (a typed error when NULL cannot go there).</summary>
    private static string Read(QueryMethodSpec spec, ValueSpec value, string ordinal, string member)
    {
        string get = HasNarrowedUnderlying(value) ? $"({value.TypeName})checked(({value.EnumUnderlying})__reader.{value.ReaderMethod}({ordinal}))"
            : value.EnumUnderlying is not null ? $"({value.TypeName})__reader.{value.ReaderMethod}({ordinal})"
            : IsUnsigned(value) ? $"checked(({value.TypeName})__reader.GetInt64({ordinal}))"
            : value.Element is { } element && ElementWireOf(element) is { } elementWire
                ? $"{Support}.{(value.TypeName.StartsWith("global::System.Collections.Generic.List<", StringComparison.Ordinal) ? "ToList" : "ToArray")}(__reader.GetFieldValue<{WireType(value)}>({ordinal}), static ({elementWire}{(element.IsNullable && element.IsValueType ? "?" : string.Empty)} __v) => {FromWire(element, "__v")})"
            : value.ReaderMethod is { } method ? $"__reader.{method}({ordinal})" : $"__reader.GetFieldValue<{value.TypeName}>({ordinal})";
        if (IsUncheckedRead(value))
        {
            return get;
        }

        string whenNull = value.IsNullable
            ? value.IsValueType ? $"({value.TypeName}?)null" : "null"
            : $"throw {Support}.NullColumn({SymbolDisplay.FormatLiteral(spec.DisplayName, quote: true)}, __reader.GetName({ordinal}), {SymbolDisplay.FormatLiteral(member, quote: true)})";
        return $"__reader.IsDBNull({ordinal}) ? {whenNull} : {get}";
    }

    public static string RenderStub(QueryStubSpec stub)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        using var w = new IndentedTextWriter(text, "    ");
        bool hasNamespace = GeneratedSource.Begin(w, stub.Namespace);

        foreach (ContainingTypeSpec containing in stub.ContainingTypes)
        {
            w.WriteLine($"partial {containing.Keyword} {Identifier.Escape(containing.Name)}{containing.TypeParameters}");
            w.WriteLine("{");
            w.Indent++;
        }

        w.WriteLine($"partial {stub.TypeKeyword} {Identifier.Escape(stub.ClassName)}{stub.ClassTypeParameters}");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("// DbCore could not generate this [Query] method; the DBC01xx diagnostic on it says why. This stub only keeps the");
        w.WriteLine("// compiler from adding errors of its own.");
        string parameters = string.Join(", ", stub.Signature.Select(p => p.TypeName + " " + p.Name));
        w.WriteLine($"{stub.Modifiers} partial {stub.ReturnTypeName} {Identifier.Escape(stub.MethodName)}{stub.TypeParameters}({parameters})");
        w.Indent++;
        foreach (string constraint in stub.Constraints)
        {
            w.WriteLine(constraint);
        }

        w.WriteLine($"=> throw new global::System.InvalidOperationException({SymbolDisplay.FormatLiteral("DbCore could not generate " + stub.ClassName + "." + stub.MethodName + "; see the DBC01xx diagnostic reported at compile time.", quote: true)});");
        w.Indent--;
        w.Indent--;
        w.WriteLine("}");
        foreach (ContainingTypeSpec _ in stub.ContainingTypes)
        {
            w.Indent--;
            w.WriteLine("}");
        }

        GeneratedSource.End(w, hasNamespace);
        return text.ToString();
    }
}

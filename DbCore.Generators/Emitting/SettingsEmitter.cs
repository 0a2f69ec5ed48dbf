using System.CodeDom.Compiler;
using System.Globalization;
using System.IO;
using System.Text;
using DbCore.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace DbCore.Generators.Emitting;

/// <summary>Turns a <see cref="SettingsSpec"/> into source. Looks at no symbol.</summary>
internal static class SettingsEmitter
{
    public static void Emit(SourceProductionContext context, SettingsSpec spec)
    {
        string hintName = (spec.Namespace.Length == 0 ? string.Empty : spec.Namespace + ".")
            + string.Concat(System.Linq.Enumerable.Select(spec.ContainingTypes, t => t.Name + "."))
            + spec.ClassName + ".DbCore.g.cs";
        hintName = hintName.Replace("@", string.Empty);
        context.AddSource(hintName, SourceText.From(Render(spec), Encoding.UTF8));
    }

    public static string Render(SettingsSpec spec)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        using var w = new IndentedTextWriter(text, "    ");
        bool hasNamespace = GeneratedSource.Begin(w, spec.Namespace);

        WriteSettingsPartial(w, spec);
        w.WriteLineNoTabs(string.Empty);
        WriteAccessor(w, spec);
        w.WriteLineNoTabs(string.Empty);
        WriteSession(w, spec);
        w.WriteLineNoTabs(string.Empty);
        WriteExtensions(w, spec);

        GeneratedSource.End(w, hasNamespace);
        return text.ToString();
    }

    private static string GeneratedCode => GeneratedSource.GeneratedCodeAttribute;

    private static void WriteSettingsPartial(IndentedTextWriter w, SettingsSpec spec)
    {
        foreach (ContainingTypeSpec containing in spec.ContainingTypes)
        {
            w.WriteLine($"partial {containing.Keyword} {Id(containing.Name)}");
            w.WriteLine("{");
            w.Indent++;
        }

        string section = Xml(spec.SectionName);
        w.WriteLine($"partial class {Id(spec.ClassName)} : global::DbCore.Infrastructure.IDatabaseSettings");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"private string? _dbcoreConnectionStringSource;");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine($"/// <summary>The provider (key <c>{section}:Provider</c>); <see langword=\"null\"/> keeps the one of <c>[DatabaseSettings]</c>.</summary>");
        w.WriteLine(GeneratedCode);
        w.WriteLine("public global::DbCore.DatabaseProvider? Provider { get; set; }");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine($"/// <summary>Pool values (keys <c>{section}:Pool:*</c>); unset values come from the environment's pool profile.</summary>");
        w.WriteLine(GeneratedCode);
        w.WriteLine("public global::DbCore.PoolSettings Pool { get; } = new global::DbCore.PoolSettings();");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine($"/// <summary>Retry values (keys <c>{section}:Retry:*</c>).</summary>");
        w.WriteLine(GeneratedCode);
        w.WriteLine("public global::DbCore.RetrySettings Retry { get; } = new global::DbCore.RetrySettings();");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine($"/// <summary>Command timeout in seconds, 0 = none (key <c>{section}:CommandTimeoutSeconds</c>, default 30).</summary>");
        w.WriteLine(GeneratedCode);
        w.WriteLine("public int? CommandTimeoutSeconds { get; set; }");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine($"/// <summary>Health check timeout in seconds (key <c>{section}:HealthTimeoutSeconds</c>, default 5).</summary>");
        w.WriteLine(GeneratedCode);
        w.WriteLine("public int? HealthTimeoutSeconds { get; set; }");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine($"string? global::DbCore.Infrastructure.IDatabaseSettings.ConnectionString => this.{Id(spec.ConnectionStringProperty)};");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine("string? global::DbCore.Infrastructure.IDatabaseSettings.ConnectionStringSource => _dbcoreConnectionStringSource;");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine("void global::DbCore.Infrastructure.IDatabaseSettings.SetConnectionStringSource(string source) => _dbcoreConnectionStringSource = source;");
        if (!spec.HasUserToString)
        {
            w.WriteLineNoTabs(string.Empty);
            w.WriteLine("/// <summary>The settings with the password of the connection string replaced by <c>***</c>.</summary>");
            w.WriteLine(GeneratedCode);
            w.WriteLine($"public override string ToString() => global::DbCore.Infrastructure.SettingsFormatter.Format({Literal(spec.ClassName)}, {Literal(spec.ConnectionStringProperty)}, this);");
        }

        w.Indent--;
        w.WriteLine("}");
        foreach (ContainingTypeSpec _ in spec.ContainingTypes)
        {
            w.Indent--;
            w.WriteLine("}");
        }
    }

    private static void WriteAccessor(IndentedTextWriter w, SettingsSpec spec)
    {
        string settings = spec.SettingsTypeName;
        w.WriteLine($"/// <summary>The typed database accessor of <see cref=\"{settings}\"/>: sessions, units of work, health and pool statistics. A DI singleton.</summary>");
        w.WriteLine(GeneratedCode);
        w.WriteLine($"{spec.Accessibility} sealed partial class {spec.AccessorName} : global::DbCore.DatabaseAccessor<{spec.SessionName}>");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("/// <summary>What the generator read from the settings class: names, keys, provider and pool profiles.</summary>");
        w.WriteLine("internal static readonly global::DbCore.Infrastructure.DatabaseDefinition Definition = new global::DbCore.Infrastructure.DatabaseDefinition(");
        w.Indent++;
        w.WriteLine($"name: {Literal(spec.BaseName)},");
        w.WriteLine($"settingsTypeName: {Literal(spec.ClassName)},");
        w.WriteLine($"sectionName: {Literal(spec.SectionName)},");
        w.WriteLine($"connectionStringProperty: {Literal(spec.ConnectionStringProperty)},");
        w.WriteLine($"environmentVariable: {(spec.EnvironmentVariable is null ? "null" : Literal(spec.EnvironmentVariable))},");
        w.WriteLine($"provider: global::DbCore.DatabaseProvider.{spec.Provider},");
        if (spec.Profiles.Count == 0)
        {
            w.WriteLine("profiles: null);");
        }
        else
        {
            w.WriteLine("profiles: new global::DbCore.Infrastructure.PoolProfile[]");
            w.WriteLine("{");
            w.Indent++;
            foreach (PoolProfileSpec p in spec.Profiles)
            {
                w.WriteLine($"new global::DbCore.Infrastructure.PoolProfile({Literal(p.Environment)}, {p.Size}, {p.MaxOverflow}, {p.AcquireTimeoutSeconds}, {p.RecycleSeconds}, {p.IdleSeconds}, {(p.WarmUp ? "true" : "false")}),");
            }

            w.Indent--;
            w.WriteLine("});");
        }

        w.Indent--;
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine("/// <summary>Resolves the options of <paramref name=\"settings\"/> and builds the data source.</summary>");
        w.WriteLine("/// <param name=\"settings\">The bound settings (see <see cref=\"BindSettings\"/>).</param>");
        w.WriteLine("/// <param name=\"environment\">The environment that picks the pool profile; <see langword=\"null\"/> reads DOTNET_ENVIRONMENT, then ASPNETCORE_ENVIRONMENT, else Production.</param>");
        w.WriteLine("/// <param name=\"loggerFactory\">Where logs go; <see langword=\"null\"/> for none.</param>");
        w.WriteLine("/// <param name=\"hooks\">Code that configures the provider (the Npgsql data source builder, SQLite connections as sessions open them); <see langword=\"null\"/> for none.</param>");
        w.WriteLine("/// <exception cref=\"global::DbCore.DatabaseConfigurationException\">A value is invalid; the message names the key and the fix.</exception>");
        w.WriteLine($"public {spec.AccessorName}({settings} settings, string? environment = null, global::Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null, global::DbCore.ProviderHooks? hooks = null)");
        w.Indent++;
        w.WriteLine(": base(Definition, settings, environment, loggerFactory, hooks)");
        w.Indent--;
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("Settings = settings;");
        w.Indent--;
        w.WriteLine("}");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine("/// <summary>The settings this accessor was built from.</summary>");
        w.WriteLine($"public {settings} Settings {{ get; }}");
        if (spec.Provider == ProviderKind.PostgreSql)
        {
            w.WriteLineNoTabs(string.Empty);
            w.WriteLine("/// <summary>The Npgsql data source (the seed's \"engine\").</summary>");
            w.WriteLine("public new global::Npgsql.NpgsqlDataSource DataSource => (global::Npgsql.NpgsqlDataSource)base.DataSource;");
        }

        w.WriteLineNoTabs(string.Empty);
        w.WriteLine("/// <inheritdoc/>");
        w.WriteLine($"protected override {spec.SessionName} CreateSession(global::DbCore.Infrastructure.DatabaseEngine engine) => new {spec.SessionName}(engine);");
        w.WriteLineNoTabs(string.Empty);
        WriteBinder(w, spec);
        w.Indent--;
        w.WriteLine("}");
    }

    private static void WriteBinder(IndentedTextWriter w, SettingsSpec spec)
    {
        string settings = spec.SettingsTypeName;
        string section = spec.SectionName;
        w.WriteLine("/// <summary>");
        w.WriteLine("/// Binds the settings without reflection. Connection string, highest first: <paramref name=\"configure\"/>,");
        w.WriteLine($"/// {(spec.EnvironmentVariable is null ? string.Empty : $"the environment variable <c>{Xml(spec.EnvironmentVariable)}</c>, ")}<c>ConnectionStrings:{spec.BaseName}</c>, <c>{Xml(section)}:ConnectionString</c>, the property's default.");
        w.WriteLine($"/// Every other value: <paramref name=\"configure\"/>, then <c>{Xml(section)}:*</c>.");
        w.WriteLine("/// </summary>");
        w.WriteLine("/// <param name=\"configuration\">The root configuration, or <see langword=\"null\"/>.</param>");
        w.WriteLine("/// <param name=\"configure\">Changes applied last, or <see langword=\"null\"/>.</param>");
        w.WriteLine("/// <exception cref=\"global::DbCore.DatabaseConfigurationException\">A value cannot be parsed; the message names the key.</exception>");
        w.WriteLine($"public static {settings} BindSettings(global::Microsoft.Extensions.Configuration.IConfiguration? configuration, global::System.Action<{settings}>? configure = null)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"var settings = new {settings}();");
        w.WriteLine($"string source = {Literal(spec.ClassName + "." + spec.ConnectionStringProperty + " (default)")};");
        w.WriteLine("if (configuration is not null)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"global::Microsoft.Extensions.Configuration.IConfigurationSection section = configuration.GetSection({Literal(section)});");
        w.WriteLine("if (section[\"ConnectionString\"] is { } sectionConnectionString)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"settings.{Id(spec.ConnectionStringProperty)} = sectionConnectionString;");
        w.WriteLine($"source = {Literal(section + ":ConnectionString")};");
        w.Indent--;
        w.WriteLine("}");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine($"if (configuration[{Literal("ConnectionStrings:" + spec.BaseName)}] is {{ }} namedConnectionString)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"settings.{Id(spec.ConnectionStringProperty)} = namedConnectionString;");
        w.WriteLine($"source = {Literal("ConnectionStrings:" + spec.BaseName)};");
        w.Indent--;
        w.WriteLine("}");
        w.WriteLineNoTabs(string.Empty);
        WriteValue(w, section, "Provider", "settings.Provider", "global::DbCore.Infrastructure.SettingsBinder.ParseProvider");
        WriteValue(w, section, "Pool:Size", "settings.Pool.Size", "global::DbCore.Infrastructure.SettingsBinder.ParseInt32");
        WriteValue(w, section, "Pool:MaxOverflow", "settings.Pool.MaxOverflow", "global::DbCore.Infrastructure.SettingsBinder.ParseInt32");
        WriteValue(w, section, "Pool:AcquireTimeoutSeconds", "settings.Pool.AcquireTimeoutSeconds", "global::DbCore.Infrastructure.SettingsBinder.ParseInt32");
        WriteValue(w, section, "Pool:RecycleSeconds", "settings.Pool.RecycleSeconds", "global::DbCore.Infrastructure.SettingsBinder.ParseInt32");
        WriteValue(w, section, "Pool:IdleSeconds", "settings.Pool.IdleSeconds", "global::DbCore.Infrastructure.SettingsBinder.ParseInt32");
        WriteValue(w, section, "Pool:WarmUp", "settings.Pool.WarmUp", "global::DbCore.Infrastructure.SettingsBinder.ParseBoolean");
        WriteValue(w, section, "Retry:MaxAttempts", "settings.Retry.MaxAttempts", "global::DbCore.Infrastructure.SettingsBinder.ParseInt32");
        WriteValue(w, section, "Retry:BaseDelayMilliseconds", "settings.Retry.BaseDelayMilliseconds", "global::DbCore.Infrastructure.SettingsBinder.ParseInt32");
        WriteValue(w, section, "Retry:MaxDelayMilliseconds", "settings.Retry.MaxDelayMilliseconds", "global::DbCore.Infrastructure.SettingsBinder.ParseInt32");
        WriteValue(w, section, "CommandTimeoutSeconds", "settings.CommandTimeoutSeconds", "global::DbCore.Infrastructure.SettingsBinder.ParseInt32");
        WriteValue(w, section, "HealthTimeoutSeconds", "settings.HealthTimeoutSeconds", "global::DbCore.Infrastructure.SettingsBinder.ParseInt32");
        foreach (BindablePropertySpec property in spec.Properties)
        {
            string parse = property.Kind switch
            {
                PropertyKind.String => string.Empty,
                PropertyKind.Boolean => "global::DbCore.Infrastructure.SettingsBinder.ParseBoolean",
                PropertyKind.Int32 => "global::DbCore.Infrastructure.SettingsBinder.ParseInt32",
                PropertyKind.Int64 => "global::DbCore.Infrastructure.SettingsBinder.ParseInt64",
                PropertyKind.Double => "global::DbCore.Infrastructure.SettingsBinder.ParseDouble",
                PropertyKind.TimeSpan => "global::DbCore.Infrastructure.SettingsBinder.ParseTimeSpan",
                _ => $"global::DbCore.Infrastructure.SettingsBinder.ParseEnum<{property.TypeName}>",
            };
            WriteValue(w, section, property.Name, "settings." + Id(property.Name), parse, "property" + property.Name);
        }

        w.Indent--;
        w.WriteLine("}");
        if (spec.EnvironmentVariable is not null)
        {
            w.WriteLineNoTabs(string.Empty);
            w.WriteLine($"if (global::DbCore.Infrastructure.SettingsBinder.GetEnvironmentVariable({Literal(spec.EnvironmentVariable)}) is {{ }} environmentConnectionString)");
            w.WriteLine("{");
            w.Indent++;
            w.WriteLine($"settings.{Id(spec.ConnectionStringProperty)} = environmentConnectionString;");
            w.WriteLine($"source = {Literal(spec.EnvironmentVariable + " (environment variable)")};");
            w.Indent--;
            w.WriteLine("}");
        }

        w.WriteLineNoTabs(string.Empty);
        w.WriteLine("if (configure is not null)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"string? before = settings.{Id(spec.ConnectionStringProperty)};");
        w.WriteLine("configure(settings);");
        w.WriteLine($"if (!string.Equals(before, settings.{Id(spec.ConnectionStringProperty)}, global::System.StringComparison.Ordinal))");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("source = \"the configure delegate\";");
        w.Indent--;
        w.WriteLine("}");
        w.Indent--;
        w.WriteLine("}");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine("((global::DbCore.Infrastructure.IDatabaseSettings)settings).SetConnectionStringSource(source);");
        w.WriteLine("return settings;");
        w.Indent--;
        w.WriteLine("}");
    }

    /// <summary>One key; <paramref name="local"/> names the pattern variable (user properties get their own prefix, so a
    /// property named like a well-known key, e.g. <c>PoolSize</c>, does not clash with <c>Pool:Size</c>).</summary>
    private static void WriteValue(IndentedTextWriter w, string section, string key, string target, string parse, string? local = null)
    {
        string fullKey = section + ":" + key;
        local ??= "value" + key.Replace(":", string.Empty);
        if (parse.Length == 0)
        {
            w.WriteLine($"if (section[{Literal(key)}] is {{ }} {local}) {target} = {local};");
            return;
        }

        w.WriteLine($"if (section[{Literal(key)}] is {{ Length: > 0 }} {local}) {target} = {parse}({local}, {Literal(fullKey)});");
    }

    private static void WriteSession(IndentedTextWriter w, SettingsSpec spec)
    {
        w.WriteLine($"/// <summary>One unit of work on <see cref=\"{spec.AccessorName}\"/>: a connection and one transaction. Scoped in DI; opened lazily on first use.</summary>");
        w.WriteLine(GeneratedCode);
        w.WriteLine($"{spec.Accessibility} sealed partial class {spec.SessionName} : global::DbCore.DbSession");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"internal {spec.SessionName}(global::DbCore.Infrastructure.DatabaseEngine engine)");
        w.Indent++;
        w.WriteLine(": base(engine)");
        w.Indent--;
        w.WriteLine("{");
        w.WriteLine("}");
        (string Connection, string Transaction, string Command)? types = spec.Provider switch
        {
            ProviderKind.PostgreSql => ("global::Npgsql.NpgsqlConnection", "global::Npgsql.NpgsqlTransaction", "global::Npgsql.NpgsqlCommand"),
            ProviderKind.Sqlite => ("global::Microsoft.Data.Sqlite.SqliteConnection", "global::Microsoft.Data.Sqlite.SqliteTransaction", "global::Microsoft.Data.Sqlite.SqliteCommand"),
            _ => null,
        };
        if (types is { } t)
        {
            w.WriteLineNoTabs(string.Empty);
            w.WriteLine("/// <summary>The open connection. Opens the session synchronously when it is not open yet.</summary>");
            w.WriteLine($"public new {t.Connection} Connection => ({t.Connection})base.Connection;");
            w.WriteLineNoTabs(string.Empty);
            w.WriteLine("/// <summary>The session's transaction. Opens the session synchronously when it is not open yet.</summary>");
            w.WriteLine($"public new {t.Transaction} Transaction => ({t.Transaction})base.Transaction;");
            w.WriteLineNoTabs(string.Empty);
            w.WriteLine("/// <summary>Creates a command bound to the session's connection and transaction.</summary>");
            w.WriteLine("/// <param name=\"sql\">The command text.</param>");
            w.WriteLine($"public new {t.Command} CreateCommand(string sql) => ({t.Command})base.CreateCommand(sql);");
        }

        w.Indent--;
        w.WriteLine("}");
    }

    private static void WriteExtensions(IndentedTextWriter w, SettingsSpec spec)
    {
        string settings = spec.SettingsTypeName;
        string b = spec.BaseName;
        w.WriteLine($"/// <summary>Registers <see cref=\"{spec.AccessorName}\"/> and its session and health check.</summary>");
        w.WriteLine(GeneratedCode);
        w.WriteLine($"{spec.Accessibility} static partial class {spec.ExtensionsName}");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("/// <summary>");
        w.WriteLine($"/// Registers the settings (bound and validated at first resolve), the accessor <see cref=\"{spec.AccessorName}\"/> (singleton),");
        w.WriteLine($"/// the session <see cref=\"{spec.SessionName}\"/> (scoped, opened lazily) and a startup check that fails fast on invalid configuration.");
        w.WriteLine("/// </summary>");
        w.WriteLine("/// <param name=\"services\">The service collection.</param>");
        w.WriteLine("/// <param name=\"configuration\">The root configuration; <see langword=\"null\"/> uses the <c>IConfiguration</c> registered in the container, if any.</param>");
        w.WriteLine("/// <param name=\"configure\">Changes applied after configuration (highest precedence).</param>");
        w.WriteLine("/// <returns>The service collection.</returns>");
        w.WriteLine($"public static global::Microsoft.Extensions.DependencyInjection.IServiceCollection Add{b}(this global::Microsoft.Extensions.DependencyInjection.IServiceCollection services, global::Microsoft.Extensions.Configuration.IConfiguration? configuration = null, global::System.Action<{settings}>? configure = null)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("global::System.ArgumentNullException.ThrowIfNull(services);");
        w.WriteLine($"global::Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton<{settings}>(services, sp => {spec.AccessorName}.BindSettings(configuration ?? global::Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetService<global::Microsoft.Extensions.Configuration.IConfiguration>(sp), configure));");
        w.WriteLine($"global::Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton<{spec.AccessorName}>(services, sp => new {spec.AccessorName}(");
        w.Indent++;
        w.WriteLine($"global::Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<{settings}>(sp),");
        w.WriteLine("global::DbCore.Infrastructure.DatabaseEnvironment.Resolve(sp),");
        w.WriteLine("global::Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetService<global::Microsoft.Extensions.Logging.ILoggerFactory>(sp),");
        w.WriteLine($"global::DbCore.ProviderHooksRegistration<{spec.AccessorName}>.Resolve(sp)));");
        w.Indent--;
        w.WriteLine($"global::Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddScoped<{spec.SessionName}>(services, sp => global::Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<{spec.AccessorName}>(sp).CreateSession());");
        w.WriteLine("global::Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddEnumerable(services, global::Microsoft.Extensions.DependencyInjection.ServiceDescriptor.Singleton<global::Microsoft.Extensions.Hosting.IHostedService, global::DbCore.Infrastructure.DatabaseStartupService<" + spec.AccessorName + ">>());");
        w.WriteLine("return services;");
        w.Indent--;
        w.WriteLine("}");
        w.WriteLineNoTabs(string.Empty);
        w.WriteLine("/// <summary>");
        w.WriteLine($"/// Adds the health check of <see cref=\"{spec.AccessorName}\"/> (SELECT 1 on its data source). The only place it is registered.");
        w.WriteLine("/// </summary>");
        w.WriteLine("/// <param name=\"builder\">The health checks builder.</param>");
        w.WriteLine($"/// <param name=\"name\">The check name; defaults to <c>{b}</c>.</param>");
        w.WriteLine("/// <param name=\"tags\">Tags to filter checks by.</param>");
        w.WriteLine("/// <param name=\"timeout\">How long SELECT 1 may take; defaults to the accessor's health timeout.</param>");
        w.WriteLine("/// <param name=\"failureStatus\">The status reported on failure; defaults to Unhealthy.</param>");
        w.WriteLine("/// <returns>The builder.</returns>");
        w.WriteLine($"public static global::Microsoft.Extensions.DependencyInjection.IHealthChecksBuilder Add{b}HealthCheck(this global::Microsoft.Extensions.DependencyInjection.IHealthChecksBuilder builder, string? name = null, global::System.Collections.Generic.IEnumerable<string>? tags = null, global::System.TimeSpan? timeout = null, global::Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus? failureStatus = null)");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine("global::System.ArgumentNullException.ThrowIfNull(builder);");
        w.WriteLine("return builder.Add(new global::Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(");
        w.Indent++;
        w.WriteLine($"name ?? {Literal(b)},");
        w.WriteLine($"sp => new global::DbCore.Infrastructure.DatabaseHealthCheck(global::Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<{spec.AccessorName}>(sp), timeout),");
        w.WriteLine("failureStatus,");
        w.WriteLine("tags,");
        w.WriteLine("timeout));");
        w.Indent--;
        w.Indent--;
        w.WriteLine("}");
        w.Indent--;
        w.WriteLine("}");
    }

    private static string Literal(string value) => SymbolDisplay.FormatLiteral(value, quote: true);

    private static string Id(string name) => Identifier.Escape(name);

    /// <summary>Text inside an XML doc comment: escaped, on one line.</summary>
    private static string Xml(string text)
        => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\r", " ").Replace("\n", " ");
}

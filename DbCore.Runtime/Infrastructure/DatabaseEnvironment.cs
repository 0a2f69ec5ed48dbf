using System;
using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DbCore.Infrastructure;

/// <summary>Decides the environment name that selects the pool profile. Used by generated code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DatabaseEnvironment
{
    /// <summary>The name used when nothing else says: <c>Production</c>.</summary>
    public const string Default = "Production";

    /// <summary><see cref="IHostEnvironment.EnvironmentName"/> when registered, else <see cref="FromProcess"/>.</summary>
    public static string Resolve(IServiceProvider? services)
    {
        string? name = services?.GetService<IHostEnvironment>()?.EnvironmentName;
        return string.IsNullOrWhiteSpace(name) ? FromProcess() : name!;
    }

    /// <summary><c>DOTNET_ENVIRONMENT</c>, else <c>ASPNETCORE_ENVIRONMENT</c>, else <c>Production</c>.</summary>
    public static string FromProcess()
    {
        string? name = System.Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT");
        if (string.IsNullOrWhiteSpace(name))
        {
            name = System.Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT");
        }

        return string.IsNullOrWhiteSpace(name) ? Default : name!;
    }
}

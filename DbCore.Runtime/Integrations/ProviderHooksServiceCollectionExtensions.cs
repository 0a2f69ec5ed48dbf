using System;
using System.Collections.Generic;
using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;

namespace DbCore;

/// <summary>Registers <see cref="ProviderHooks"/> for an accessor in the service container.</summary>
public static class ProviderHooksServiceCollectionExtensions
{
    /// <summary>
    /// Configures the provider of <typeparamref name="TAccessor"/> when the container builds it, with access to the
    /// container (for example a token service for a periodic password provider). Several calls apply in order.
    /// </summary>
    /// <typeparam name="TAccessor">The generated accessor, e.g. <c>Database</c>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the hooks.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection ConfigureDatabaseProvider<TAccessor>(this IServiceCollection services, Action<IServiceProvider, ProviderHooks> configure)
        where TAccessor : DatabaseAccessor
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSingleton(new ProviderHooksRegistration<TAccessor>(configure));
        return services;
    }
}

/// <summary>One <see cref="ProviderHooksServiceCollectionExtensions.ConfigureDatabaseProvider{TAccessor}"/> call. Used by generated code.</summary>
/// <typeparam name="TAccessor">The accessor it configures.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ProviderHooksRegistration<TAccessor>
    where TAccessor : DatabaseAccessor
{
    private readonly Action<IServiceProvider, ProviderHooks> _configure;

    internal ProviderHooksRegistration(Action<IServiceProvider, ProviderHooks> configure) => _configure = configure;

    /// <summary>The hooks every registration for <typeparamref name="TAccessor"/> sets, in order; <see langword="null"/> when there is none.</summary>
    /// <param name="services">The container.</param>
    public static ProviderHooks? Resolve(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        ProviderHooks? hooks = null;
        foreach (ProviderHooksRegistration<TAccessor> registration in services.GetServices<ProviderHooksRegistration<TAccessor>>())
        {
            var next = new ProviderHooks();
            registration._configure(services, next);
            hooks = hooks is null ? next : hooks.Then(next);
        }

        return hooks;
    }
}

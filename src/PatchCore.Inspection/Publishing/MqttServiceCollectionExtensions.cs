using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace PatchCore.Inspection.Publishing;

internal static class MqttServiceCollectionExtensions
{
    /// <summary>
    /// Results and status to an MQTT broker (<c>Inspection:Mqtt</c>, validated at start; off without a <c>Server</c>).
    /// Call it between the health reporter and the worker: hosted services stop in reverse order, so the publisher then
    /// stops after the worker's last batch and before health.json's final write.
    /// </summary>
    public static IServiceCollection AddMqttPublishing(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<MqttOptions>, MqttOptionsValidator>();
        services.AddOptions<MqttOptions>().BindConfiguration(MqttOptions.Section).ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<MqttOptions>>().Value);
        services.AddSingleton(sp => new MqttTopics(sp.GetRequiredService<MqttOptions>().TopicPrefix));
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<MqttOptions>();
            return new PublisherState(options, options.ClientIdFor(sp.GetRequiredService<InspectionOptions>().OutboxPath));
        });
        services.AddSingleton<PublishingMetrics>();
        services.AddSingleton<MqttConnection>();
        services.AddSingleton<ResultPublisher>();
        services.AddSingleton<StatusReporter>();
        services.AddHostedService<MqttPublishing>();
        // Images in (Inspection:Mqtt:Intake): its own connection with a persistent session; stops after the worker too.
        services.AddSingleton<Intake.MqttIntakeMetrics>();
        services.AddSingleton<Intake.MqttImageIntake>(); // health.json reads it too
        services.AddHostedService(sp => sp.GetRequiredService<Intake.MqttImageIntake>());
        return services;
    }
}

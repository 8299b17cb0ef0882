#include "config.h"

#include "api.h"

/* Every endpoint at a glance. Literal paths come before templates that could match them. */
const struct route api_routes[] = {
	/* The Webhook agent: every method is a POST. */
	{ "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook", api_agent_create_default_webhook, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Agents/Webhook/SaveWebhook", api_agent_save_webhook, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Agents/Webhook/GetWebhook", api_agent_get_webhook, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Agents/Webhook/GetAllWebhooks", api_agent_get_all_webhooks, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Agents/Webhook/DeleteWebhook", api_agent_delete_webhook, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Agents/Webhook/GetLastError", api_agent_get_last_error, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Agents/Webhook/TestWebhook", api_agent_test_webhook, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Agents/Webhook/SignalEvent", api_agent_signal_event, ROUTE_AUTHENTICATED },
	/* The REST resource over the same rows. */
	{ "GET", "/api/v1/Webhook", api_rest_list, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Webhook", api_rest_create, ROUTE_AUTHENTICATED },
	{ "GET", "/api/v1/Webhook/default", api_rest_default, ROUTE_AUTHENTICATED },
	{ "GET", "/api/v1/Webhook/Activity", api_log_activity_all, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Webhook/Test", api_rest_test, ROUTE_AUTHENTICATED },
	{ "GET", "/api/v1/Webhook/Usage", api_rest_usage_list, ROUTE_AUTHENTICATED },
	{ "GET", "/api/v1/Webhook/{id}", api_rest_get, ROUTE_AUTHENTICATED },
	{ "PUT", "/api/v1/Webhook/{id}", api_rest_replace, ROUTE_AUTHENTICATED },
	{ "PATCH", "/api/v1/Webhook/{id}", api_rest_patch, ROUTE_AUTHENTICATED },
	{ "DELETE", "/api/v1/Webhook/{id}", api_rest_delete, ROUTE_AUTHENTICATED },
	{ "GET", "/api/v1/Webhook/{id}/LastError", api_rest_last_error, ROUTE_AUTHENTICATED },
	{ "GET", "/api/v1/Webhook/{id}/Usage", api_rest_usage, ROUTE_AUTHENTICATED },
	/* Its delivery log (api_log.c); Recover before the signal template it would match. */
	{ "GET", "/api/v1/Webhook/{id}/Events", api_log_events, ROUTE_AUTHENTICATED },
	{ "GET", "/api/v1/Webhook/{id}/Events/{deliveryId}", api_log_event, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Webhook/{id}/Events/{deliveryId}/Resend", api_log_resend, ROUTE_AUTHENTICATED },
	{ "GET", "/api/v1/Webhook/{id}/Attempts", api_log_attempts, ROUTE_AUTHENTICATED },
	{ "GET", "/api/v1/Webhook/{id}/Activity", api_log_activity, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Webhook/{id}/Recover", api_log_recover, ROUTE_AUTHENTICATED },
	/* Delivery controls and the end of a secret rotation (api_controls.c). */
	{ "GET", "/api/v1/Webhook/{id}/Controls", api_controls_get, ROUTE_AUTHENTICATED },
	{ "PUT", "/api/v1/Webhook/{id}/Controls", api_controls_put, ROUTE_AUTHENTICATED },
	{ "DELETE", "/api/v1/Webhook/{id}/PreviousSecret", api_controls_end_rotation, ROUTE_AUTHENTICATED },
	{ "POST", "/api/v1/Webhook/{eventName}/{primaryKey}", api_rest_signal, ROUTE_AUTHENTICATED },
	/* Monitoring: nginx keeps these private. */
	{ "GET", "/_webhookd/health", api_monitor_health, 0 },
	{ "GET", "/_webhookd/metrics", api_monitor_metrics, 0 },
};

const size_t api_nroutes = sizeof api_routes / sizeof api_routes[0];

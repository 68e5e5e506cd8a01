/** Statuses that mean the server did not accept who we are. */
export function refusesCredentials(status: number): boolean {
  return status === 401 || status === 403;
}

/**
 * The line for a 401/403: which server refused, what it said, and which settings to
 * check (`hint`, e.g. "check AIRFLOW_USERNAME and AIRFLOW_PASSWORD"). Never the credentials.
 */
export function credentialsRefused(service: { name: string; shownUrl: string }, status: number, detail: string, hint: string): string {
  return `the ${service.name} API at ${service.shownUrl} refused the credentials (${status}${detail ? `: ${detail}` : ''}); ${hint}`;
}

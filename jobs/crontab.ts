/**
 * Recurring work, in graphile-worker's crontab format (UTC). Every standard
 * worker carries it; graphile-worker makes sure each tick runs once.
 * `fill=1h`: a tick missed while no worker ran is made up within an hour.
 */
export const CRONTAB = `
# m  h  dom mon dow  task          options
17   *  *   *   *    housekeeping  ?fill=1h&max=1
`;

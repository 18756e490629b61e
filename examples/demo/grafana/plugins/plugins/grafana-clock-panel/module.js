/* placeholder for the built grafana-clock-panel bundle */
define([], function () { return {}; });

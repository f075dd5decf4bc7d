// Package deploy holds what runs the gateway as a service and points Claude Code at it: the
// systemd user unit (claude-otel-gw.service) and system unit (claude-otel-gw-system.service),
// the launchd agent and daemon property lists, the Claude Code managed settings, and Grafana
// dashboards. The Makefile's install targets put them in place.
//
// It has no code. Its tests check the files as their consumers see them: systemd-analyze
// verify, a property-list parse with launchd's keys and types, and the install targets run
// against a scratch home and DESTDIR.
package deploy

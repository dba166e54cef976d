// Package vuln is the vendor's handling of vulnerabilities in Hearth: the disclosure
// policy as data, the intake of reports from anyone (no account), their validation,
// durable storage and status workflow, the messages sent to reporters, CVSS scoring,
// deadlines by severity and the search for reports that miss them.
//
// # Layout of the vendor directory
//
//	vulns/.lock                 serialises every change (flock: serve and the CLI)
//	vulns/<id>.json             one report: fields, state, CVSS, history, SHA-256 of
//	                            the reporter's status token (never the token)
//	vulns/outbox/<time>-<id>-<n>.json
//	                            messages to reporters (the mail queue)
//
// Every file is written with internal/atomicfile (temporary file, fsync, rename, fsync
// of the directory), so a crash leaves the old or the new report, never a torn one.
//
// Threat model: anonymous submitters send hostile text (scripts, control characters,
// invalid UTF-8, oversized bodies) and floods; they guess ids and status tokens. Text
// is validated on intake and only ever rendered escaped; sizes are bounded; submitters
// are rate limited per source network and the number of reports awaiting triage is
// bounded; a report's status is shown only with its 256-bit token, compared with the
// stored SHA-256 in constant time. Operators change states offline with hearth-cloud
// vulns, which validates every transition.
//
// Concurrency: a Store may be used from many goroutines and processes at once; every
// change holds an exclusive flock on vulns/.lock, reads a shared one.
//
// TS-0045 5.2.1.1 (disclosure policy: contact, acknowledgement, status updates),
// 5.2.1.2 (timely handling: severity and fix deadline), 5.2.1.3 (continuous monitoring
// of the components for vulnerabilities), 5.3.1.13 (support period statement),
// 5.5.2.1 (validation of input).
package vuln

// Package metrics is callvaultd's Prometheus endpoint: GET /metrics, in
// the Prometheus text exposition format, on the address the optional
// metrics section of the configuration gives (listen =
// "127.0.0.1:9310", for example).
//
// Every figure comes from one source, the control API's status (what
// `callvault status --json` shows): [NewHandler] takes the function that
// answers it, and each scrape asks it once, with the request's context
// bounded to 5 s, through a Collector made for that scrape in a registry of
// its own. Nothing is cached or polled between scrapes, no package-level
// registry or other shared state is used, and the numbers a scrape shows
// are those of one status. When status fails the scrape is answered 503
// Service Unavailable with the error as text, so Prometheus marks the
// target down (its up is 0) rather than record a partial picture. [Serve]
// runs the HTTP server on a listener until its context ends.
//
// The metrics, with the status field (JSON name) each one shows:
//
//	| Metric                                            | Type    | Meaning                                                                 | Status field                         |
//	|---------------------------------------------------|---------|-------------------------------------------------------------------------|--------------------------------------|
//	| callvault_build_info{version}                     | gauge   | always 1; the label is the daemon's version                             | version                              |
//	| callvault_start_time_seconds                      | gauge   | when the daemon started (Unix seconds)                                  | started                              |
//	| callvault_uptime_seconds                          | gauge   | seconds since the start                                                 | uptime_seconds                       |
//	| callvault_draining                                | gauge   | 1 while draining, else 0                                                | draining                             |
//	| callvault_live_calls                              | gauge   | recording sessions in progress                                          | live_calls                           |
//	| callvault_calls_total                             | counter | calls admitted since the start                                          | calls_total                          |
//	| callvault_calls_rejected_total{reason}            | counter | calls refused since the start, by reason (licence, disk_full, ...)      | rejected_by; they add up to rejected |
//	| callvault_calls_per_second{window="1s"}           | gauge   | calls admitted in the last whole second                                 | calls_per_second.last_1s             |
//	| callvault_calls_per_second{window="5s"}           | gauge   | average over the last 5 seconds (the same as cps)                       | calls_per_second.last_5s, cps        |
//	| callvault_calls_per_second{window="1m"}           | gauge   | average over the last minute                                            | calls_per_second.avg_1m              |
//	| callvault_calls_per_second{window="15m"}          | gauge   | average over the last 15 minutes                                        | calls_per_second.avg_15m             |
//	| callvault_calls_per_second_peak                   | gauge   | calls admitted in the busiest second since the start                    | calls_per_second.peak                |
//	| callvault_calls_per_second_peak_timestamp_seconds | gauge   | when that second began (Unix seconds); absent before the first call     | calls_per_second.peak_at             |
//	| callvault_recordings_sealed_total{status}         | counter | recordings sealed since the start: complete, recovered, failed          | sealed                               |
//	| callvault_recordings_indexed                      | gauge   | recordings in the index; absent when the daemon does not count them     | recordings                           |
//	| callvault_live_keep_destroyed_total               | counter | Live Keep calls destroyed because no keep came                          | live_keep_destroyed                  |
//	| callvault_rtp_packets_received_total              | counter | RTP packets received, every call since the start                        | rtp.packets                          |
//	| callvault_rtp_packets_late_total                  | counter | RTP packets too late to be placed                                       | rtp.late                             |
//	| callvault_rtp_packets_dropped_total               | counter | RTP packets dropped: duplicates, foreign source or SSRC, SRTP failed    | rtp.dropped                          |
//	| callvault_rtp_lost_frames_total                   | counter | 10 ms audio frames lost on the network (concealed or silent)            | rtp.lost                             |
//	| callvault_rtp_packets_lost_total                  | counter | RTP packets that never arrived, by sequence number                      | rtp.lost_packets                     |
//	| callvault_disk_free_bytes                         | gauge   | free bytes on the recordings' file system                               | disk.free_bytes                      |
//	| callvault_disk_size_bytes                         | gauge   | size of that file system                                                | disk.total_bytes                     |
//	| callvault_disk_reserve_bytes                      | gauge   | free space kept ([storage] min_free); below it calls are refused        | disk.reserve_bytes                   |
//	| callvault_recordings_bytes                        | gauge   | bytes the sealed recordings take (once counted after the start)         | disk.usage.recordings_bytes          |
//	| callvault_recordings_growth_bytes_per_day         | gauge   | recordings a day: mean of the last full days, at most 7                 | disk.usage.growth_bytes_per_day      |
//	| callvault_storage_backlog                         | gauge   | recordings waiting to be copied to a target                             | storage.backlog                      |
//	| callvault_storage_backlog_bytes                   | gauge   | their bytes                                                             | storage.backlog_bytes                |
//	| callvault_storage_oldest_pending_timestamp_seconds | gauge   | start of the oldest waiting (absent with none)                          | storage.oldest_pending               |
//	| callvault_storage_copied_total{target}            | counter | recordings copied and verified since the start                          | storage.targets[].copied             |
//	| callvault_storage_copied_bytes_total{target}      | counter | bytes copied since the start                                            | storage.targets[].copied_bytes       |
//	| callvault_storage_target_up{target}               | gauge   | 1 while the target takes copies, 0 until its retry                      | storage.targets[].state              |
//	| callvault_storage_copy_bytes_per_second{target}   | gauge   | bytes a second over the last minute                                     | storage.targets[].bytes_per_second   |
//	| callvault_alarm_active{name}                      | gauge   | 1 while the alarm is raised; disk_low and disk_full are always shown    | alarms (name, active)                |
//	| callvault_license_limit{model}                    | gauge   | channels or users the licence allows; model is channel or user          | license.count, license.model         |
//	| callvault_license_used{model}                     | gauge   | channels or users in use now                                            | license.used                         |
//	| callvault_license_evaluation                      | gauge   | 1 while the built-in evaluation licence is in force                     | license.evaluation                   |
//	| callvault_license_refused                         | gauge   | 1 when the installed licence was refused                                | license.error not empty              |
//	| callvault_license_expiry_timestamp_seconds        | gauge   | midnight UTC after the licence's last day; absent when it never expires | license.expires                      |
//	| callvault_process_goroutines                      | gauge   | goroutines of the daemon                                                | process.goroutines                   |
//	| callvault_process_open_fds                        | gauge   | open file descriptors                                                   | process.open_files                   |
//	| callvault_process_resident_memory_bytes           | gauge   | resident memory                                                         | process.rss_bytes                    |
//	| callvault_sip_connections                         | gauge   | SIP TCP and TLS connections open now                                    | process.sip_connections              |
//	| callvault_sip_connections_refused_total           | counter | SIP connections closed at once (over a connection limit)                | process.sip_connections_refused      |
//	| callvault_tls_handshakes_failed_total             | counter | SIP TLS handshakes failed                                               | process.tls_handshakes_failed        |
//	| callvault_config_reloads_total                    | counter | configuration reloads attempted (SIGHUP)                                | config.reloads                       |
//	| callvault_config_last_reload_successful           | gauge   | 0 when the last reload was refused, else 1 (also before any)            | config.error empty                   |
//	| callvault_config_last_reload_timestamp_seconds    | gauge   | when the last reload was attempted; absent before any                   | config.reloaded_at                   |
//
// Counters start at 0 when the daemon starts. Every sealed status and both
// disk alarms are shown even at 0, so that rates and alerts need no
// absent(). The calls that rejected counts and rejected_by does not place
// are shown under reason="other". The licence metrics are absent while
// the status reports no licence (an empty model). Timestamps are Unix
// seconds with milliseconds.
//
// Useful expressions: rate(callvault_calls_total[5m]) for the call rate,
// callvault_license_used / callvault_license_limit for the licence's use,
// callvault_disk_free_bytes < 2 * callvault_disk_reserve_bytes for an
// early disk warning, callvault_license_expiry_timestamp_seconds - time()
// < 14*86400 for a licence about to expire.
package metrics

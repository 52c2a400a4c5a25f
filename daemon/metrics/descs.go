package metrics

import "github.com/prometheus/client_golang/prometheus"

// descs are the descriptions of every metric the handler serves. They are
// made once per handler and never changed, so scrapes share them freely.
type descs struct {
	buildInfo, startTime, uptime, draining *prometheus.Desc

	liveCalls, callsTotal, rejected    *prometheus.Desc
	rate, ratePeak, ratePeakTime       *prometheus.Desc
	sealed, indexed, liveKeepDestroyed *prometheus.Desc

	rtpReceived, rtpLate, rtpDropped, rtpLost, rtpLostPackets *prometheus.Desc

	diskFree, diskSize, diskReserve   *prometheus.Desc
	recordingsBytes, recordingsGrowth *prometheus.Desc
	alarm                             *prometheus.Desc

	licenseLimit, licenseUsed, licenseEvaluation              *prometheus.Desc
	licenseRefused, licenseExpiry                             *prometheus.Desc
	storageBacklog, storageBacklogBytes, storageOldest        *prometheus.Desc
	storageCopied, storageCopiedBytes, storageUp, storageRate *prometheus.Desc

	goroutines, openFDs, rss                        *prometheus.Desc
	sipConnections, sipRefused, tlsHandshakesFailed *prometheus.Desc
	configReloads, configReloadOK, configReloadTime *prometheus.Desc
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("callvault_"+name, help, labels, nil)
}

func newDescs() *descs {
	return &descs{
		buildInfo: desc("build_info", "Always 1; the label is callvaultd's version.", "version"),
		startTime: desc("start_time_seconds", "When callvaultd started, in seconds since the Unix epoch."),
		uptime:    desc("uptime_seconds", "Seconds since callvaultd started."),
		draining:  desc("draining", "1 while callvaultd is draining (refusing new calls before it stops), else 0."),

		liveCalls:  desc("live_calls", "Recording sessions in progress."),
		callsTotal: desc("calls_total", "Calls admitted since the start."),
		rejected:   desc("calls_rejected_total", "Calls refused since the start, by reason.", "reason"),
		rate:       desc("calls_per_second", "Calls admitted per second, averaged over the window.", "window"),
		ratePeak:   desc("calls_per_second_peak", "Calls admitted in the busiest second since the start."),
		ratePeakTime: desc("calls_per_second_peak_timestamp_seconds",
			"When the busiest second began, in seconds since the Unix epoch."),

		sealed:            desc("recordings_sealed_total", "Recordings sealed since the start, by status.", "status"),
		indexed:           desc("recordings_indexed", "Recordings in the index."),
		liveKeepDestroyed: desc("live_keep_destroyed_total", "Live Keep calls destroyed since the start because no keep came."),

		rtpReceived: desc("rtp_packets_received_total", "RTP packets received since the start."),
		rtpLate:     desc("rtp_packets_late_total", "RTP packets received too late to be placed, since the start."),
		rtpDropped: desc("rtp_packets_dropped_total",
			"RTP packets dropped since the start: duplicates, foreign source or SSRC, failed SRTP authentication."),
		rtpLost: desc("rtp_lost_frames_total", "10 ms audio frames lost on the network since the start (concealed or silent)."),
		rtpLostPackets: desc("rtp_packets_lost_total",
			"RTP packets that never arrived since the start, by sequence number."),

		diskFree:         desc("disk_free_bytes", "Free bytes on the file system holding the recordings."),
		diskSize:         desc("disk_size_bytes", "Size in bytes of the file system holding the recordings."),
		diskReserve:      desc("disk_reserve_bytes", "Free bytes callvaultd keeps; below them new calls are refused."),
		recordingsBytes:  desc("recordings_bytes", "Bytes the sealed recordings take on disk."),
		recordingsGrowth: desc("recordings_growth_bytes_per_day", "Bytes of recordings a day: the mean of the last full days (at most 7)."),
		alarm:            desc("alarm_active", "1 while the alarm is raised, else 0.", "name"),

		licenseLimit:      desc("license_limit", "What the licence in force allows: channels or users, by model.", "model"),
		licenseUsed:       desc("license_used", "Channels or users of the licence in use now, by model.", "model"),
		licenseEvaluation: desc("license_evaluation", "1 while the built-in evaluation licence is in force, else 0."),
		licenseRefused:    desc("license_refused", "1 when the installed licence was refused (the evaluation one is in force), else 0."),
		licenseExpiry: desc("license_expiry_timestamp_seconds",
			"When the licence stops being valid (midnight UTC after its last day), in seconds since the Unix epoch."),

		storageBacklog:      desc("storage_backlog", "Recordings waiting to be copied to a target."),
		storageBacklogBytes: desc("storage_backlog_bytes", "Bytes of the recordings waiting to be copied."),
		storageOldest: desc("storage_oldest_pending_timestamp_seconds",
			"Start of the oldest recording waiting to be copied, in seconds since the Unix epoch (absent with none)."),
		storageCopied:      desc("storage_copied_total", "Recordings copied to the target and verified since the start.", "target"),
		storageCopiedBytes: desc("storage_copied_bytes_total", "Bytes copied to the target since the start.", "target"),
		storageUp:          desc("storage_target_up", "1 while the target takes copies, 0 after a failure until its retry.", "target"),
		storageRate:        desc("storage_copy_bytes_per_second", "Bytes copied to the target a second, over the last minute.", "target"),

		goroutines:          desc("process_goroutines", "Goroutines of callvaultd."),
		openFDs:             desc("process_open_fds", "Open file descriptors of callvaultd."),
		rss:                 desc("process_resident_memory_bytes", "Resident memory of callvaultd in bytes."),
		sipConnections:      desc("sip_connections", "SIP TCP and TLS connections open now."),
		sipRefused:          desc("sip_connections_refused_total", "SIP TCP and TLS connections closed at once since the start (over a connection limit)."),
		tlsHandshakesFailed: desc("tls_handshakes_failed_total", "SIP TLS handshakes failed since the start."),

		configReloads:    desc("config_reloads_total", "Reloads of the configuration attempted since the start."),
		configReloadOK:   desc("config_last_reload_successful", "1 when the last reload of the configuration was applied (or none was attempted), 0 when it was refused."),
		configReloadTime: desc("config_last_reload_timestamp_seconds", "When the last reload of the configuration was attempted, in seconds since the Unix epoch."),
	}
}

// all returns every description, for Describe.
func (d *descs) all() []*prometheus.Desc {
	return []*prometheus.Desc{
		d.buildInfo, d.startTime, d.uptime, d.draining,
		d.liveCalls, d.callsTotal, d.rejected, d.rate, d.ratePeak, d.ratePeakTime,
		d.sealed, d.indexed, d.liveKeepDestroyed,
		d.rtpReceived, d.rtpLate, d.rtpDropped, d.rtpLost, d.rtpLostPackets,
		d.diskFree, d.diskSize, d.diskReserve, d.recordingsBytes, d.recordingsGrowth, d.alarm,
		d.licenseLimit, d.licenseUsed, d.licenseEvaluation, d.licenseRefused, d.licenseExpiry,
		d.storageBacklog, d.storageBacklogBytes, d.storageOldest, d.storageCopied, d.storageCopiedBytes, d.storageUp, d.storageRate,
		d.goroutines, d.openFDs, d.rss, d.sipConnections, d.sipRefused, d.tlsHandshakesFailed,
		d.configReloads, d.configReloadOK, d.configReloadTime,
	}
}

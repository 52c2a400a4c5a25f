package calc

// MBPerHour is the disk one recorded hour takes, in MB, as a
// call-recording vendor's sizing guide counts it. A recording is a
// constant 32 kbit/s MP3, 14.4 million bytes (13.7 MB) an hour of audio;
// the guide rounds that up to 16 MB, which leaves headroom for tags, file
// and index overhead, and DiskGB counts the same way.
const MBPerHour = 16

// Service is how many days a month the recorded lines work.
type Service struct {
	Name         string  // "8x6" or "24x7"
	DaysPerMonth float64 // working days in a month
}

// The two services of the sizing guide: office hours six days a week
// (24 days a month) and round the clock every day (30 days a month).
var (
	Service8x6  = Service{Name: "8x6", DaysPerMonth: 24}
	Service24x7 = Service{Name: "24x7", DaysPerMonth: 30}
)

// Services lists the named services, for flags and menus.
var Services = []Service{Service8x6, Service24x7}

// ServiceByName returns the service called name ("8x6" or "24x7").
func ServiceByName(name string) (Service, bool) {
	for _, s := range Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// RecordedHours is the hours of audio recorded over the retention period:
// agents x hoursPerDay x daysPerMonth x months. Negative or NaN inputs
// count as 0.
func RecordedHours(agents int, hoursPerDay, daysPerMonth float64, months int) float64 {
	return nonNeg(float64(agents)) * nonNeg(hoursPerDay) * nonNeg(daysPerMonth) * nonNeg(float64(months))
}

// DiskGB is the disk, in GB (1024 MB), that agents recording hoursPerDay
// each, daysPerMonth days a month, fill when recordings are kept for
// months: RecordedHours x MBPerHour / 1024. Negative or NaN inputs count
// as 0, so the result is never negative. With whole-number inputs the
// result is exact (the MB are a whole number and /1024 is exact in binary
// floating point); display code rounds it as it likes.
func DiskGB(agents int, hoursPerDay, daysPerMonth float64, months int) float64 {
	return RecordedHours(agents, hoursPerDay, daysPerMonth, months) * MBPerHour / 1024
}

// nonNeg clamps negative and NaN values to 0.
func nonNeg(x float64) float64 {
	if x > 0 {
		return x
	}
	return 0
}

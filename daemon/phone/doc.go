// Package phone is callvault's Cisco IP Phone service: the pages a
// phone's Services button, service URL button or softkeys fetch to start,
// stop, keep, pause or resume the recording of the phone's call.
//
// It answers two URLs, by GET (HEAD gives the headers and acts on
// nothing):
//
//	/phone/menu?ext=2501                 a CiscoIPPhoneMenu of the five actions
//	/phone/menu                          a CiscoIPPhoneInput asking for the extension
//	/phone/record?ext=2501&action=ACTION a CiscoIPPhoneText saying what happened
//
// where ACTION is start, stop, keep, pause or resume and ext is 1 to 32 of
// digits, '+', '*' and '#' ('#' written %23). The result page shows the
// call and the recording's state, with softkeys for the next sensible
// actions (Stop and Pause while recording, Resume while paused, ...) whose
// URLs carry the same ext, and Exit (SoftKey:Exit). Every page is UTF-8
// with the encoding declared in its XML prolog (a phone reads an
// undeclared page in its locale's character set), sent as text/xml, built
// by encoding/xml and kept to the phones' limits (Title and Prompt 32
// characters, Text 4000). Refusals by the recorder ([ErrNoCall],
// [ErrNotAllowed], any error) and malformed requests are pages too, with
// status 200, since a phone shows nothing useful for any other status.
// Result pages are sent already expired so that they stay out of the
// phone's history: Exit returns to the menu and never re-sends an action.
//
// Only the networks in [Config.Allow] are served; any other source gets
// 403. Refused and malformed requests are logged at most once per source
// every 10 seconds. The recorder does the actions through a [Trigger].
// [Serve] runs the service on a listener (the daemon's phone.listen,
// e.g. 0.0.0.0:8080) with short timeouts.
//
// # Cisco Unified CM
//
// CUCM substitutes only #DEVICENAME# in a service URL, and with the
// device's name (SEP and its MAC address), not an extension: that is no
// use here. Give the extension as a service parameter instead:
//
//  1. Device > Device Settings > Phone Services > Add New: Service Name
//     "Call recording", Service URL http://RECORDER:8080/phone/menu,
//     Service Category XML Service, Service Type Standard IP Phone
//     Service, Enable; no Enterprise Subscription (each phone needs its
//     own parameter value). Save.
//  2. On that service, New Parameter: Parameter Name ext, Parameter
//     Display Name Extension, Parameter is Required. CUCM appends
//     ?ext=VALUE to the URL of each subscription.
//  3. Subscribe each phone (Device > Phone, the phone, Related Links:
//     Subscribe/Unsubscribe Services, or the user in Self Care) with its
//     extension as the value. Update Subscriptions after changing the URL.
//  4. For one-press access, give the phone's button template a Service
//     URL button and assign the service to it (Add a new SURL).
//
// Without the parameter the menu asks for the extension each time, which
// also suits shared phones.
//
// # Cisco Unified CME
//
// CME's services URL (under telephony-service) serves all its phones
// alike, so the menu asks for the extension:
//
//	telephony-service
//	 url services http://RECORDER:8080/phone/menu
//	 create cnf-files
//
// then reset the phones. A phone can skip the question with a feature
// button whose URL carries its extension, on phones and CME versions that
// have url-button (check the command reference of yours):
//
//	ephone 1
//	 url-button 1 http://RECORDER:8080/phone/menu?ext=2501 Record
//
// CME's ephone-template softkey lists (softkeys connected ...) order
// built-in features only; they cannot add a softkey that fetches a URL.
//
// In both cases the phones fetch the pages from the recorder directly:
// list the phones' networks in phone.allow and let them reach the port.
package phone

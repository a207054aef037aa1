//! Criterion benchmarks of the per-NOTIFY and per-stanza translations; a counting global
//! allocator reports the heap allocations of one translation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use sip_xmpp_presence::*;

/// Counts every allocation and reallocation, then defers to the system allocator.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same layout as our caller gave us.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap allocations made by one call of `f`.
fn allocations<R>(f: impl Fn() -> R) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    black_box(f());
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

const ONE_TUPLE: &[u8] = include_bytes!("../tests/data/pidf_kamailio_one_tuple.xml");
const STANZA: &[u8] = include_bytes!("../tests/data/xmpp_client_available.xml");
const WINFO: &[u8] = include_bytes!("../tests/data/winfo_partial_lists.xml");
const NOTIFY: &[u8] = include_bytes!("../tests/data/sip_notify_pidf.txt");

/// A PIDF with 10 tuples, each with RPID activities, a contact priority and a note.
fn ten_tuples() -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version='1.0' encoding='UTF-8'?><presence xmlns='urn:ietf:params:xml:ns:pidf' \
         xmlns:dm='urn:ietf:params:xml:ns:pidf:data-model' \
         xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid' entity='pres:bob@example.com'>",
    );
    for i in 0..10 {
        let basic = if i % 3 == 0 { "closed" } else { "open" };
        xml.push_str(&format!(
            "<tuple id='t{i}'><status><basic>{basic}</basic></status>\
             <rpid:activities><rpid:on-the-phone/></rpid:activities>\
             <contact priority='0.{i}'>sip:bob@device{i}.example.com</contact>\
             <note xml:lang='en'>Device {i} &amp; more</note></tuple>"
        ));
    }
    xml.push_str("</presence>");
    xml.into_bytes()
}

fn notify_to_stanza(body: &[u8]) -> String {
    let pidf = parse_pidf(body, &Limits::default()).unwrap();
    pidf_to_stanza(
        "bob*example.com@xmpp-gw.example.org",
        "juliet@example.com",
        &pidf,
    )
}

fn stanza_to_pidf(stanza: &[u8]) -> String {
    let presence = parse_xmpp_presence(stanza, &Limits::default()).unwrap();
    let (_, resource) = split_jid(&presence.from);
    render_pidf(
        "sip:juliet*example.com@sip.example.org",
        resource,
        &presence,
    )
}

fn winfo(body: &[u8]) -> usize {
    let info = parse_watcherinfo(body, &Limits::default()).unwrap();
    info.watchers_to_request().len()
}

/// The header lookups alone: these must not allocate.
fn header_lookups(raw: &[u8]) -> usize {
    let msg = SipMessage::parse(raw).unwrap();
    black_box((msg.from(), msg.to(), msg.call_id(), msg.contact()));
    black_box((
        msg.header("Event"),
        msg.header("Subscription-State"),
        msg.header("c"),
    ));
    msg.body.len()
}

fn notify_headers(raw: &[u8]) -> usize {
    let msg = SipMessage::parse(raw).unwrap();
    let state = parse_subscription_state(msg.header("Subscription-State").unwrap()).unwrap();
    let event = parse_event(msg.header("Event").unwrap()).unwrap();
    black_box((msg.from(), msg.to(), msg.call_id(), event));
    presence_notify_action(&state, !msg.body.is_empty()) as usize
}

fn bench(c: &mut Criterion) {
    let ten = ten_tuples();
    assert_eq!(
        allocations(|| header_lookups(NOTIFY)),
        0,
        "SIP header lookups allocated"
    );
    let cases: [(&str, &dyn Fn() -> usize); 6] = [
        ("notify_pidf_1_tuple_to_stanza", &|| {
            notify_to_stanza(ONE_TUPLE).len()
        }),
        ("notify_pidf_10_tuples_rpid_to_stanza", &|| {
            notify_to_stanza(&ten).len()
        }),
        ("xmpp_stanza_to_pidf", &|| stanza_to_pidf(STANZA).len()),
        ("winfo_parse_and_watchers", &|| winfo(WINFO)),
        ("sip_notify_header_lookups", &|| header_lookups(NOTIFY)),
        ("sip_notify_headers_and_state", &|| notify_headers(NOTIFY)),
    ];
    for (name, run) in cases {
        eprintln!("allocations per translation: {name} = {}", allocations(run));
        c.bench_function(name, |b| b.iter(run));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Worker -> manager frames: round trips, limits and garbage.

use proptest::prelude::*;
use xmpp_component_link::frame::{DEFAULT_MAX_FRAME, Frame, FrameError, FrameKind, encode};

fn kind() -> impl Strategy<Value = FrameKind> {
    prop_oneof![
        Just(FrameKind::Packet),
        Just(FrameKind::Message),
        Just(FrameKind::Subscribe),
        Just(FrameKind::Notify),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    (kind(), ".{0,40}", ".{0,40}", ".{0,20}", ".{0,300}").prop_map(|(kind, from, to, id, body)| {
        Frame {
            kind,
            from,
            to,
            id,
            body,
        }
    })
}

#[test]
fn layout_is_version_kind_and_four_length_prefixed_fields() {
    let bytes = encode(FrameKind::Notify, "f", "to", "", "body", DEFAULT_MAX_FRAME).unwrap();
    assert_eq!(
        bytes,
        b"\x01\x08\x01\0\0\0f\x02\0\0\0to\0\0\0\0\x04\0\0\0body".to_vec()
    );
}

#[test]
fn size_limit_on_both_sides() {
    let body = "x".repeat(100);
    let bytes = encode(FrameKind::Packet, "", "", "", &body, 118).unwrap();
    assert_eq!(bytes.len(), 118);
    assert_eq!(
        encode(FrameKind::Packet, "", "", "", &body, 117),
        Err(FrameError::TooLarge { len: 118, max: 117 })
    );
    assert_eq!(
        Frame::decode(&bytes, 117),
        Err(FrameError::TooLarge { len: 118, max: 117 })
    );
    assert!(Frame::decode(&bytes, 118).is_ok());
}

#[test]
fn bad_headers_and_fields() {
    let good = encode(FrameKind::Message, "a", "b", "c", "d", 1000).unwrap();
    let mut v = good.clone();
    v[0] = 2;
    assert_eq!(Frame::decode(&v, 1000), Err(FrameError::BadVersion(2)));
    v = good.clone();
    v[1] = 3;
    assert_eq!(Frame::decode(&v, 1000), Err(FrameError::BadKind(3)));
    v = good.clone();
    v.push(0);
    assert_eq!(Frame::decode(&v, 1000), Err(FrameError::TrailingBytes));
    v = good.clone();
    v[6] = 0xff;
    assert_eq!(Frame::decode(&v, 1000), Err(FrameError::NotUtf8("from")));
    v = good;
    v[2] = 0xff;
    v[5] = 0xff;
    assert_eq!(Frame::decode(&v, 1000), Err(FrameError::Truncated));
    assert_eq!(Frame::decode(b"", 1000), Err(FrameError::Truncated));
}

proptest! {
    #[test]
    fn round_trip(f in frame()) {
        let bytes = f.encode(DEFAULT_MAX_FRAME).unwrap();
        prop_assert_eq!(Frame::decode(&bytes, DEFAULT_MAX_FRAME), Ok(f));
    }

    #[test]
    fn every_truncation_is_an_error(f in frame()) {
        let bytes = f.encode(DEFAULT_MAX_FRAME).unwrap();
        for cut in 0..bytes.len() {
            prop_assert_eq!(Frame::decode(&bytes[..cut], DEFAULT_MAX_FRAME), Err(FrameError::Truncated));
        }
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Frame::decode(&bytes, 100);
        let mut framed = vec![1u8, 2];
        framed.extend_from_slice(&bytes);
        let _ = Frame::decode(&framed, DEFAULT_MAX_FRAME);
    }
}

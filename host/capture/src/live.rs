//! Frames from a network interface, as a card's MAC takes them off its wire (Linux only).
//!
//! A raw `AF_PACKET` socket bound to one interface, promiscuous, that ignores the frames the
//! machine itself sends on it and stamps each frame with the kernel's receive time
//! (`SO_TIMESTAMPNS`, ns since the Unix epoch). Reads wait at most the poll interval given to
//! [`LiveCapture::open`], so a caller can always stop. Nothing is lost silently: a frame longer
//! than the receive buffer is counted in [`LiveStats::truncated`] and logged, and the frames the
//! kernel dropped because the socket's queue was full are counted in [`LiveStats::kernel_drops`].
//! The socket needs `CAP_NET_RAW` (root, or the capability on the binary).

use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tickcross_core::frame::Frame;

/// Largest frame taken off the wire; anything longer is counted as truncated (jumbo frames of up
/// to 9,216 bytes fit; the pipeline itself drops frames above 2,048 bytes, by its own rule).
pub const LIVE_SNAPLEN: usize = 16 * 1024;

/// Kernel receive queue asked for: at 10 Gb/s it holds about 6 ms of minimum-size frames.
const RCVBUF_BYTES: libc::c_int = 32 << 20;

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("interface {name:?}: no such network interface")]
    NoSuchInterface { name: String },
    #[error("interface {name:?}: {what}: {source} (a raw socket needs CAP_NET_RAW, e.g. root)")]
    Os {
        name: String,
        what: &'static str,
        #[source]
        source: io::Error,
    },
}

/// What a live capture has taken and lost so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LiveStats {
    /// Frames returned.
    pub frames: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Frames longer than [`LIVE_SNAPLEN`], skipped.
    pub truncated: u64,
    /// Frames the kernel dropped because the socket's queue was full.
    pub kernel_drops: u64,
}

/// A raw socket on one interface.
#[derive(Debug)]
pub struct LiveCapture {
    fd: OwnedFd,
    name: String,
    buf: Vec<u8>,
    stats: LiveStats,
}

impl LiveCapture {
    /// Opens interface `name`; each read waits at most `poll` (at least 1 ms) for a frame.
    pub fn open(name: &str, poll: Duration) -> Result<LiveCapture, LiveError> {
        let os = |what: &'static str| {
            let source = io::Error::last_os_error();
            LiveError::Os {
                name: name.to_string(),
                what,
                source,
            }
        };
        let cname = CString::new(name).map_err(|_| LiveError::NoSuchInterface {
            name: name.to_string(),
        })?;
        // SAFETY: a valid NUL-terminated string
        let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        if ifindex == 0 {
            return Err(LiveError::NoSuchInterface {
                name: name.to_string(),
            });
        }
        // Protocol 0: the socket takes no frame until it is bound to the interface below, so no
        // frame of another interface can be queued in between.
        // SAFETY: plain socket call; the descriptor is owned at once
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(os("socket(AF_PACKET, SOCK_RAW)"));
        }
        // SAFETY: `raw` is a descriptor we own
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let one: libc::c_int = 1;
        // Kernels before 4.20 do not know PACKET_IGNORE_OUTGOING: outgoing frames are then
        // recognised by their packet type in `next_frame`.
        let _ = setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &one);
        if setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &RCVBUF_BYTES).is_err() {
            setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &RCVBUF_BYTES)
                .map_err(|_| os("SO_RCVBUF"))?;
        }
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &one)
            .map_err(|_| os("SO_TIMESTAMPNS"))?;
        let poll = poll.max(Duration::from_millis(1));
        let tv = libc::timeval {
            tv_sec: poll.as_secs() as libc::time_t,
            tv_usec: poll.subsec_micros() as libc::suseconds_t,
        };
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv).map_err(|_| os("SO_RCVTIMEO"))?;
        // SAFETY: all-zero is a valid sockaddr_ll
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: sll is a sockaddr_ll of the size given
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(os("bind"));
        }
        // A card takes every frame on its wire, whatever the destination MAC.
        // SAFETY: all-zero is a valid packet_mreq
        let mut mreq: libc::packet_mreq = unsafe { zeroed() };
        mreq.mr_ifindex = ifindex as i32;
        mreq.mr_type = libc::PACKET_MR_PROMISC as u16;
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)
            .map_err(|_| os("PACKET_ADD_MEMBERSHIP (promiscuous)"))?;
        Ok(LiveCapture {
            fd,
            name: name.to_string(),
            buf: vec![0; LIVE_SNAPLEN],
            stats: LiveStats::default(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next frame, or `None` when none arrived within the poll interval (or a signal
    /// interrupted the wait).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, LiveError> {
        loop {
            // SAFETY: all-zero is valid for these C structs
            let mut from: libc::sockaddr_ll = unsafe { zeroed() };
            let mut ctl = [0u64; 16]; // u64 for cmsg alignment
            let mut iov = libc::iovec {
                iov_base: self.buf.as_mut_ptr().cast(),
                iov_len: self.buf.len(),
            };
            // SAFETY: as above
            let mut msg: libc::msghdr = unsafe { zeroed() };
            msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
            msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = ctl.as_mut_ptr().cast();
            msg.msg_controllen = size_of::<[u64; 16]>();
            // SAFETY: every pointer in msg refers to live buffers of the lengths given
            let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_TRUNC) };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                    _ => Err(LiveError::Os {
                        name: self.name.clone(),
                        what: "recvmsg",
                        source: e,
                    }),
                };
            }
            if from.sll_pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            let len = n as usize;
            if len > self.buf.len() {
                self.stats.truncated += 1;
                tracing::warn!(
                    interface = %self.name,
                    len,
                    "frame longer than {LIVE_SNAPLEN} bytes skipped (counted as truncated)"
                );
                continue;
            }
            let ts_ns = timestamp(&msg).unwrap_or_else(now_ns);
            self.stats.frames += 1;
            self.stats.bytes += len as u64;
            return Ok(Some(Frame::new(ts_ns, self.buf[..len].to_vec())));
        }
    }

    /// Frames taken and lost so far (asks the kernel for the drops since the last call).
    pub fn stats(&mut self) -> LiveStats {
        // SAFETY: all-zero is a valid tpacket_stats; len is its size
        let mut st: libc::tpacket_stats = unsafe { zeroed() };
        let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: st and len are valid for the kernel to write
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut st as *mut libc::tpacket_stats).cast(),
                &mut len,
            )
        };
        if r == 0 {
            // the kernel resets these counts on every read
            self.stats.kernel_drops += st.tp_drops as u64;
        }
        self.stats
    }
}

fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, opt: libc::c_int, v: &T) -> io::Result<()> {
    // SAFETY: v points to a T of the size given
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (v as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The kernel's receive time from the message's `SCM_TIMESTAMPNS`.
fn timestamp(msg: &libc::msghdr) -> Option<u64> {
    // SAFETY: msg was filled by recvmsg; the CMSG macros stay within msg_controllen
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                return Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    None
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

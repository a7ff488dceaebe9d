//! Why a goroutine waits ([`WaitReason`], Go's `waitReason`), as goroutine dumps and deadlock
//! reports print it. A goroutine sets its reason during the poll that returns `Pending`
//! (`current::set_wait_reason`); its G publishes it as the poll ends.

/// Why a goroutine waits, in Go's words where Go has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WaitReason {
    None = 0,
    Sleep,
    Join,
    Yield,
    Promise,
    ChanSend,
    ChanRecv,
    ChanSendNil,
    ChanRecvNil,
    Select,
    SelectNoCases,
    WaitGroupWait,
    MutexLock,
    Semacquire,
    RwMutexRLock,
    RwMutexLock,
    CondWait,
    /// `gort::set_procs`: until the world stops and the number of Ps changes.
    StopTheWorld,
}

impl WaitReason {
    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            1 => WaitReason::Sleep,
            2 => WaitReason::Join,
            3 => WaitReason::Yield,
            4 => WaitReason::Promise,
            5 => WaitReason::ChanSend,
            6 => WaitReason::ChanRecv,
            7 => WaitReason::ChanSendNil,
            8 => WaitReason::ChanRecvNil,
            9 => WaitReason::Select,
            10 => WaitReason::SelectNoCases,
            11 => WaitReason::WaitGroupWait,
            12 => WaitReason::MutexLock,
            13 => WaitReason::Semacquire,
            14 => WaitReason::RwMutexRLock,
            15 => WaitReason::RwMutexLock,
            16 => WaitReason::CondWait,
            17 => WaitReason::StopTheWorld,
            _ => WaitReason::None,
        }
    }

    /// Whether a goroutine waiting for this reason can only be woken through a runtime object.
    pub(crate) fn is_on_runtime_object(self) -> bool {
        !matches!(
            self,
            WaitReason::None
                | WaitReason::Sleep
                | WaitReason::Yield
                | WaitReason::Promise
                | WaitReason::StopTheWorld
        )
    }

    /// The reason as a goroutine dump prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::None => "",
            WaitReason::Sleep => "sleep",
            WaitReason::Join => "goroutine join",
            WaitReason::Yield => "yield",
            WaitReason::Promise => "JS promise",
            WaitReason::ChanSend => "chan send",
            WaitReason::ChanRecv => "chan receive",
            WaitReason::ChanSendNil => "chan send (nil chan)",
            WaitReason::ChanRecvNil => "chan receive (nil chan)",
            WaitReason::Select => "select",
            WaitReason::SelectNoCases => "select (no cases)",
            WaitReason::WaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::MutexLock => "sync.Mutex.Lock",
            WaitReason::Semacquire => "semacquire",
            WaitReason::RwMutexRLock => "sync.RWMutex.RLock",
            WaitReason::RwMutexLock => "sync.RWMutex.Lock",
            WaitReason::CondWait => "sync.Cond.Wait",
            WaitReason::StopTheWorld => "stop the world",
        }
    }
}

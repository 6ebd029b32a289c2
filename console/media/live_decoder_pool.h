#pragma once
// Live decoder pool (实时解码池) for the proctors' wall: a few worker threads, each running
// single-threaded libavcodec decoders for many streams. Network threads push encoded
// packets; the UI takes the newest decoded frame of each stream (YUV 4:2:0 planes) when
// its version changed. Nothing here touches ImGui or GL, and no call blocks on a decode:
// the UI only takes a short lock to grab a shared pointer.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace exam::media {

// What a stream's decoder does with the packets it gets.
enum class DecodePolicy {
  kFull,           // every packet: the tile is on screen
  kKeyframesOnly,  // non-key packets are dropped unseen: the tile is off screen
  kStopped,        // nothing is decoded (packets are counted and dropped)
};

enum class ColorSpace { kBt601, kBt709 };
enum class ColorRange { kLimited, kFull };

// One decoded picture in planar YUV 4:2:0, planes copied out of the decoder's AVFrame with
// its line sizes (which can be wider than the picture). Chroma planes are
// ChromaWidth(width) x ChromaHeight(height).
struct VideoFrame {
  int width = 0;
  int height = 0;
  int linesize[3] = {0, 0, 0};
  std::vector<uint8_t> planes[3];
  ColorSpace color_space = ColorSpace::kBt601;
  ColorRange color_range = ColorRange::kLimited;
  int64_t pts = 0;
  bool keyframe = false;
  uint64_t version = 0;  // the stream's frame version this frame was published as

  const uint8_t* Plane(int i) const { return planes[i].data(); }
};

inline int ChromaWidth(int width) { return (width + 1) / 2; }
inline int ChromaHeight(int height) { return (height + 1) / 2; }

// Decoder set-up, as the first message of a WatchMedia stream carries it.
struct StreamParameters {
  std::string codec;  // FFmpeg decoder name, e.g. "h264"
  int width = 0;
  int height = 0;
  std::string extradata;
  int time_base_num = 1;
  int time_base_den = 90000;
};

struct EncodedPacket {
  std::string data;
  int64_t pts = 0;
  int64_t dts = 0;
  bool keyframe = false;
};

// Per-stream counters and health, for the tile's overlays and for tests.
struct StreamStats {
  uint64_t packets_received = 0;
  uint64_t packets_skipped = 0;  // dropped by the policy or while waiting for a keyframe
  uint64_t packets_dropped = 0;  // queue overflow (decoder too slow)
  uint64_t frames_decoded = 0;
  uint64_t errors = 0;
  std::string last_error;  // empty when the last error was cleared by a good keyframe
  bool has_parameters = false;
  bool waiting_for_keyframe = true;
  DecodePolicy policy = DecodePolicy::kFull;
  // Zero time_point when nothing arrived yet.
  std::chrono::steady_clock::time_point last_packet_at{};
  std::chrono::steady_clock::time_point last_frame_at{};
};

// Counters over every pool of the process since it started (--frame-stats, benchmarks).
// "Visible" counts packets that arrived while their stream decoded at full rate: each one
// should become a decoded frame, so visible_received - visible_decoded is what the wall
// failed to show (dropped on overflow, skipped while resyncing, or broken).
struct DecodeTotals {
  uint64_t packets_received = 0;
  uint64_t frames_decoded = 0;
  uint64_t visible_received = 0;
  uint64_t visible_decoded = 0;
  uint64_t packets_dropped = 0;  // queue overflow
  uint64_t errors = 0;
  double decode_seconds = 0;  // worker time inside avcodec_send_packet/receive_frame
};

class LiveDecoderPool {
 public:
  using StreamId = uint64_t;
  struct Options {
    int threads = 2;
    // Packets waiting per stream before the oldest are dropped (and the decoder resyncs on
    // the next keyframe).
    size_t max_queued_packets = 240;
    // Called on a worker thread after a stream decoding at full rate (kFull) published a
    // frame; must be cheap (glfwPostEmptyEvent). Frames of kKeyframesOnly streams are off
    // screen: they wait, unannounced, until the UI looks (otherwise 64 hidden tiles would
    // wake the UI 64 times a second to draw nothing new).
    std::function<void(StreamId)> on_frame;
  };

  LiveDecoderPool() : LiveDecoderPool(Options{}) {}
  explicit LiveDecoderPool(Options options);
  ~LiveDecoderPool();  // Stop()s
  LiveDecoderPool(const LiveDecoderPool&) = delete;
  LiveDecoderPool& operator=(const LiveDecoderPool&) = delete;

  // A new stream, decoding at full rate once it has parameters.
  StreamId Open(DecodePolicy policy = DecodePolicy::kFull);
  // Forgets the stream; its queued packets are dropped. Unknown ids are ignored.
  void Close(StreamId id);
  // (Re)configures the decoder: the next packet to decode must be a keyframe.
  void SetParameters(StreamId id, StreamParameters parameters);
  // Queues one packet (any thread). Cheap: the decode happens on the stream's worker.
  void Push(StreamId id, EncodedPacket packet);
  void SetPolicy(StreamId id, DecodePolicy policy);

  // Grows each time a new frame is published; 0 before the first. Lock-free.
  uint64_t FrameVersion(StreamId id) const;
  // The newest frame (null before the first). The frame is immutable; holding it keeps its
  // buffer from being reused.
  std::shared_ptr<const VideoFrame> LatestFrame(StreamId id) const;
  StreamStats Stats(StreamId id) const;
  // Blocks until every packet queued so far has been handled (tests, benchmarks).
  void Drain();
  // Joins the workers; later calls are no-ops.
  void Stop();
  // Counters over every pool of the process (thread-safe, lock-free).
  static DecodeTotals ProcessTotals();

 private:
  struct Stream;
  struct Worker;
  std::shared_ptr<Stream> Find(StreamId id) const;
  void Schedule(const std::shared_ptr<Stream>& s);
  void Run(Worker* w);
  void Process(Stream& s);

  Options options_;
  mutable std::mutex mu_;  // guards streams_ and next_id_
  std::unordered_map<StreamId, std::shared_ptr<Stream>> streams_;
  StreamId next_id_ = 1;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopped_{false};
};

}  // namespace exam::media

#include "media/live_decoder_pool.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/pixdesc.h>
}

#include <cstring>
#include <utility>

namespace exam::media {

namespace {

using Clock = std::chrono::steady_clock;

// Process-wide counters behind LiveDecoderPool::ProcessTotals().
struct Totals {
  std::atomic<uint64_t> packets_received{0};
  std::atomic<uint64_t> frames_decoded{0};
  std::atomic<uint64_t> visible_received{0};
  std::atomic<uint64_t> visible_decoded{0};
  std::atomic<uint64_t> packets_dropped{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> decode_ns{0};
};
Totals g_totals;

// Adds the time of its scope to the decoder time (libavcodec calls only, not the plane
// copies), for --frame-stats.
struct DecodeTimer {
  Clock::time_point begin = Clock::now();
  ~DecodeTimer() {
    g_totals.decode_ns.fetch_add(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - begin).count()),
        std::memory_order_relaxed);
  }
};

std::string AvError(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

}  // namespace

struct LiveDecoderPool::Worker {
  std::mutex mu;
  std::condition_variable wake;
  std::condition_variable idle;
  std::deque<std::shared_ptr<Stream>> ready;
  int busy = 0;
  bool stop = false;
  std::thread thread;
};

struct LiveDecoderPool::Stream {
  StreamId id = 0;
  Worker* worker = nullptr;

  // Shared with producers and readers; held only for queue and pointer operations.
  mutable std::mutex mu;
  std::deque<EncodedPacket> queue;
  std::unique_ptr<StreamParameters> new_parameters;
  bool overflowed = false;
  bool scheduled = false;
  bool closed = false;
  StreamStats stats;
  std::shared_ptr<VideoFrame> latest;
  std::shared_ptr<VideoFrame> spare;  // the frame before latest, reused when nobody holds it
  std::atomic<uint64_t> version{0};

  // The worker's alone.
  AVCodecContext* codec = nullptr;
  AVPacket* packet = nullptr;
  AVFrame* frame = nullptr;
  bool need_keyframe = true;

  ~Stream() {
    avcodec_free_context(&codec);
    av_packet_free(&packet);
    av_frame_free(&frame);
  }
};

LiveDecoderPool::LiveDecoderPool(Options options) : options_(std::move(options)) {
  const int n = options_.threads > 0 ? options_.threads : 1;
  for (int i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<Worker>());
    Worker* w = workers_.back().get();
    w->thread = std::thread([this, w] { Run(w); });
  }
}

LiveDecoderPool::~LiveDecoderPool() { Stop(); }

void LiveDecoderPool::Stop() {
  if (stopped_.exchange(true)) return;
  for (auto& w : workers_) {
    {
      std::lock_guard lock(w->mu);
      w->stop = true;
    }
    w->wake.notify_all();
  }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  std::lock_guard lock(mu_);
  streams_.clear();
}

LiveDecoderPool::StreamId LiveDecoderPool::Open(DecodePolicy policy) {
  auto s = std::make_shared<Stream>();
  std::lock_guard lock(mu_);
  s->id = next_id_++;
  s->worker = workers_[s->id % workers_.size()].get();
  s->stats.policy = policy;
  streams_[s->id] = s;
  return s->id;
}

void LiveDecoderPool::Close(StreamId id) {
  std::shared_ptr<Stream> s;
  {
    std::lock_guard lock(mu_);
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    s = std::move(it->second);
    streams_.erase(it);
  }
  std::lock_guard lock(s->mu);
  s->closed = true;
  s->queue.clear();
  // The decoder goes with the last reference (the worker's, if it is busy with it).
}

std::shared_ptr<LiveDecoderPool::Stream> LiveDecoderPool::Find(StreamId id) const {
  std::lock_guard lock(mu_);
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

void LiveDecoderPool::Schedule(const std::shared_ptr<Stream>& s) {
  Worker* w = s->worker;
  {
    std::lock_guard lock(w->mu);
    w->ready.push_back(s);
  }
  w->wake.notify_one();
}

void LiveDecoderPool::SetParameters(StreamId id, StreamParameters parameters) {
  auto s = Find(id);
  if (!s) return;
  bool schedule = false;
  {
    std::lock_guard lock(s->mu);
    s->new_parameters = std::make_unique<StreamParameters>(std::move(parameters));
    s->stats.has_parameters = true;
    schedule = !s->scheduled;
    s->scheduled = true;
  }
  if (schedule) Schedule(s);
}

void LiveDecoderPool::Push(StreamId id, EncodedPacket packet) {
  auto s = Find(id);
  if (!s) return;
  bool schedule = false;
  {
    std::lock_guard lock(s->mu);
    ++s->stats.packets_received;
    g_totals.packets_received.fetch_add(1, std::memory_order_relaxed);
    if (s->stats.policy == DecodePolicy::kFull) g_totals.visible_received.fetch_add(1, std::memory_order_relaxed);
    s->stats.last_packet_at = Clock::now();
    if (s->stats.policy == DecodePolicy::kStopped) {
      ++s->stats.packets_skipped;
      s->overflowed = true;  // resync on a keyframe once decoding resumes
      return;
    }
    if (s->queue.size() >= options_.max_queued_packets) {
      s->queue.pop_front();
      ++s->stats.packets_dropped;
      g_totals.packets_dropped.fetch_add(1, std::memory_order_relaxed);
      s->overflowed = true;
    }
    s->queue.push_back(std::move(packet));
    schedule = !s->scheduled;
    s->scheduled = true;
  }
  if (schedule) Schedule(s);
}

void LiveDecoderPool::SetPolicy(StreamId id, DecodePolicy policy) {
  auto s = Find(id);
  if (!s) return;
  std::lock_guard lock(s->mu);
  s->stats.policy = policy;
}

uint64_t LiveDecoderPool::FrameVersion(StreamId id) const {
  auto s = Find(id);
  return s ? s->version.load(std::memory_order_acquire) : 0;
}

std::shared_ptr<const VideoFrame> LiveDecoderPool::LatestFrame(StreamId id) const {
  auto s = Find(id);
  if (!s) return nullptr;
  std::lock_guard lock(s->mu);
  return s->latest;
}

StreamStats LiveDecoderPool::Stats(StreamId id) const {
  auto s = Find(id);
  if (!s) return {};
  std::lock_guard lock(s->mu);
  StreamStats out = s->stats;
  return out;
}

DecodeTotals LiveDecoderPool::ProcessTotals() {
  DecodeTotals t;
  t.packets_received = g_totals.packets_received.load(std::memory_order_relaxed);
  t.frames_decoded = g_totals.frames_decoded.load(std::memory_order_relaxed);
  t.visible_received = g_totals.visible_received.load(std::memory_order_relaxed);
  t.visible_decoded = g_totals.visible_decoded.load(std::memory_order_relaxed);
  t.packets_dropped = g_totals.packets_dropped.load(std::memory_order_relaxed);
  t.errors = g_totals.errors.load(std::memory_order_relaxed);
  t.decode_seconds = static_cast<double>(g_totals.decode_ns.load(std::memory_order_relaxed)) / 1e9;
  return t;
}

void LiveDecoderPool::Drain() {
  for (auto& w : workers_) {
    std::unique_lock lock(w->mu);
    w->idle.wait(lock, [&] { return w->stop || (w->ready.empty() && w->busy == 0); });
  }
}

void LiveDecoderPool::Run(Worker* w) {
  std::unique_lock lock(w->mu);
  for (;;) {
    w->wake.wait(lock, [&] { return w->stop || !w->ready.empty(); });
    if (w->stop) break;
    auto s = std::move(w->ready.front());
    w->ready.pop_front();
    ++w->busy;
    lock.unlock();
    Process(*s);
    s.reset();
    lock.lock();
    --w->busy;
    if (w->ready.empty() && w->busy == 0) w->idle.notify_all();
  }
  w->idle.notify_all();
}

void LiveDecoderPool::Process(Stream& s) {
  auto fail = [&](const std::string& why) {
    g_totals.errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(s.mu);
    ++s.stats.errors;
    s.stats.last_error = why;
    s.stats.waiting_for_keyframe = true;
    s.need_keyframe = true;
  };
  for (;;) {
    std::unique_ptr<StreamParameters> parameters;
    std::deque<EncodedPacket> batch;
    DecodePolicy policy;
    {
      std::lock_guard lock(s.mu);
      if (s.closed || stopped_.load()) {
        s.scheduled = false;
        return;
      }
      parameters = std::move(s.new_parameters);
      batch.swap(s.queue);
      policy = s.stats.policy;
      if (s.overflowed) {
        s.need_keyframe = true;
        s.overflowed = false;
      }
      if (!parameters && batch.empty()) {
        s.scheduled = false;
        return;
      }
    }

    if (parameters) {
      avcodec_free_context(&s.codec);
      s.need_keyframe = true;
      const AVCodec* decoder = avcodec_find_decoder_by_name(parameters->codec.c_str());
      if (decoder == nullptr) {
        fail("unknown codec \"" + parameters->codec + "\"");
      } else {
        s.codec = avcodec_alloc_context3(decoder);
        s.codec->thread_count = 1;  // many streams per core: parallel across streams instead
        s.codec->flags |= AV_CODEC_FLAG_LOW_DELAY;
        // Report broken packets instead of concealing them, so the stream resyncs on the
        // next keyframe rather than showing smeared pictures.
        s.codec->err_recognition |= AV_EF_EXPLODE;
        s.codec->width = parameters->width;
        s.codec->height = parameters->height;
        if (parameters->time_base_num > 0 && parameters->time_base_den > 0)
          s.codec->pkt_timebase = AVRational{parameters->time_base_num, parameters->time_base_den};
        if (!parameters->extradata.empty()) {
          s.codec->extradata =
              static_cast<uint8_t*>(av_mallocz(parameters->extradata.size() + AV_INPUT_BUFFER_PADDING_SIZE));
          std::memcpy(s.codec->extradata, parameters->extradata.data(), parameters->extradata.size());
          s.codec->extradata_size = static_cast<int>(parameters->extradata.size());
        }
        if (const int rc = avcodec_open2(s.codec, decoder, nullptr); rc < 0) {
          avcodec_free_context(&s.codec);
          fail("cannot open " + parameters->codec + " decoder: " + AvError(rc));
        }
      }
      if (!s.packet) s.packet = av_packet_alloc();
      if (!s.frame) s.frame = av_frame_alloc();
    }

    for (auto& p : batch) {
      bool skip = false;
      if (s.codec == nullptr) {
        skip = true;
      } else if (policy == DecodePolicy::kStopped || (policy == DecodePolicy::kKeyframesOnly && !p.keyframe)) {
        skip = true;
        s.need_keyframe = true;  // later packets reference what was skipped
      } else if (s.need_keyframe && !p.keyframe) {
        skip = true;
      }
      if (skip) {
        std::lock_guard lock(s.mu);
        ++s.stats.packets_skipped;
        continue;
      }
      if (p.keyframe) s.need_keyframe = false;

      av_packet_unref(s.packet);
      if (av_new_packet(s.packet, static_cast<int>(p.data.size())) < 0) {
        fail("out of memory");
        continue;
      }
      std::memcpy(s.packet->data, p.data.data(), p.data.size());
      s.packet->pts = p.pts;
      s.packet->dts = p.dts;
      if (p.keyframe) s.packet->flags |= AV_PKT_FLAG_KEY;
      int rc = 0;
      {
        DecodeTimer timer;
        rc = avcodec_send_packet(s.codec, s.packet);
      }
      if (rc < 0 && rc != AVERROR(EAGAIN)) {
        fail("decode error: " + AvError(rc));
        avcodec_flush_buffers(s.codec);
        continue;
      }
      for (;;) {
        {
          DecodeTimer timer;
          rc = avcodec_receive_frame(s.codec, s.frame);
        }
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
        if (rc < 0) {
          fail("decode error: " + AvError(rc));
          avcodec_flush_buffers(s.codec);
          break;
        }
        const AVFrame* f = s.frame;
        if (f->decode_error_flags != 0 || (f->flags & AV_FRAME_FLAG_CORRUPT)) {
          fail("corrupt frame (concealed errors)");
          av_frame_unref(s.frame);
          continue;
        }
        if (f->format != AV_PIX_FMT_YUV420P && f->format != AV_PIX_FMT_YUVJ420P) {
          const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(f->format));
          fail(std::string("unsupported pixel format ") + (name ? name : "?"));
          av_frame_unref(s.frame);
          continue;
        }
        std::shared_ptr<VideoFrame> out;
        {
          std::lock_guard lock(s.mu);
          out = std::move(s.spare);
        }
        if (!out || out.use_count() != 1) out = std::make_shared<VideoFrame>();
        out->width = f->width;
        out->height = f->height;
        for (int i = 0; i < 3; ++i) {
          const int rows = i == 0 ? f->height : ChromaHeight(f->height);
          const int cols = i == 0 ? f->width : ChromaWidth(f->width);
          const int stride = f->linesize[i] > 0 ? f->linesize[i] : -f->linesize[i];
          out->linesize[i] = stride;
          out->planes[i].resize(static_cast<size_t>(stride) * static_cast<size_t>(rows));
          for (int y = 0; y < rows; ++y)
            std::memcpy(out->planes[i].data() + static_cast<size_t>(y) * stride,
                        f->data[i] + static_cast<ptrdiff_t>(y) * f->linesize[i], static_cast<size_t>(cols));
        }
        // Colour from the stream; untagged HD is BT.709 and untagged SD BT.601 (as mpv guesses).
        if (f->colorspace == AVCOL_SPC_BT709) out->color_space = ColorSpace::kBt709;
        else if (f->colorspace == AVCOL_SPC_UNSPECIFIED) out->color_space = f->height >= 720 ? ColorSpace::kBt709 : ColorSpace::kBt601;
        else out->color_space = ColorSpace::kBt601;
        out->color_range = (f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P) ? ColorRange::kFull
                                                                                                      : ColorRange::kLimited;
        out->pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
        out->keyframe = f->key_frame != 0;
        av_frame_unref(s.frame);
        {
          std::lock_guard lock(s.mu);
          out->version = s.version.load() + 1;
          s.spare = std::move(s.latest);
          s.latest = std::move(out);
          s.version.store(s.latest->version, std::memory_order_release);
          ++s.stats.frames_decoded;
          s.stats.last_frame_at = Clock::now();
          g_totals.frames_decoded.fetch_add(1, std::memory_order_relaxed);
          if (policy == DecodePolicy::kFull) g_totals.visible_decoded.fetch_add(1, std::memory_order_relaxed);
          s.stats.waiting_for_keyframe = false;
          s.stats.last_error.clear();
        }
        // Only pictures meant for the screen wake the UI (see Options::on_frame).
        if (options_.on_frame && policy == DecodePolicy::kFull) options_.on_frame(s.id);
      }
    }
    {
      std::lock_guard lock(s.mu);
      s.stats.waiting_for_keyframe = s.need_keyframe;
    }
  }
}

}  // namespace exam::media

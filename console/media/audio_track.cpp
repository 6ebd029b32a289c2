#include "media/audio_track.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}

#include "media/media_input.h"

namespace exam::media {
namespace {

constexpr AVRational kMicrosTb{1, 1000000};

// One opened audio stream with its decoder and resampler to float at a chosen layout.
struct AudioDecoder {
  std::unique_ptr<MediaInput> input;
  AVCodecContext* dec = nullptr;
  SwrContext* swr = nullptr;
  AVPacket* packet = nullptr;
  AVFrame* frame = nullptr;
  int stream = -1;
  AVRational tb{1, 1};
  Micros origin_us = 0;  // track time 0: the video's first picture when there is video
  int rate = 48000;
  int channels = 2;
  bool eof = false;

  ~AudioDecoder() {
    swr_free(&swr);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&dec);
  }

  // Empty error: opened. `no_audio` is set for a recording without sound.
  std::string Open(std::shared_ptr<ByteSource> source, int out_rate, int out_channels, bool* no_audio,
                   const std::atomic<bool>* abort = nullptr) {
    std::string error;
    input = MediaInput::Open(source, &error, abort);
    if (!input) return error;
    AVFormatContext* fmt = input->format();
    stream = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    if (stream < 0) {
      *no_audio = true;
      return {};
    }
    AVStream* st = fmt->streams[stream];
    tb = st->time_base;
    const int video = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (video >= 0 && fmt->streams[video]->start_time != AV_NOPTS_VALUE)
      origin_us = av_rescale_q(fmt->streams[video]->start_time, fmt->streams[video]->time_base, kMicrosTb);
    else if (st->start_time != AV_NOPTS_VALUE)
      origin_us = av_rescale_q(st->start_time, tb, kMicrosTb);
    const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec) return source->Describe() + ": no decoder for audio codec " + avcodec_get_name(st->codecpar->codec_id);
    dec = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(dec, st->codecpar);
    dec->pkt_timebase = tb;
    if (int rc = avcodec_open2(dec, codec, nullptr); rc < 0)
      return source->Describe() + ": cannot open the audio decoder: " + AvErrorText(rc);
    rate = out_rate;
    channels = out_channels;
    packet = av_packet_alloc();
    frame = av_frame_alloc();
    return ResetResampler();
  }

  std::string ResetResampler() {
    swr_free(&swr);
    AVChannelLayout out_layout;
    av_channel_layout_default(&out_layout, channels);
    AVChannelLayout in_layout;
    if (dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || dec->ch_layout.nb_channels == 0)
      av_channel_layout_default(&in_layout, std::max(1, dec->ch_layout.nb_channels));
    else
      av_channel_layout_copy(&in_layout, &dec->ch_layout);
    const int rc = swr_alloc_set_opts2(&swr, &out_layout, AV_SAMPLE_FMT_FLT, rate, &in_layout, dec->sample_fmt,
                                       dec->sample_rate, 0, nullptr);
    av_channel_layout_uninit(&in_layout);
    av_channel_layout_uninit(&out_layout);
    if (rc < 0 || swr_init(swr) < 0) return "cannot convert the audio of " + input->source().Describe();
    return {};
  }

  void Seek(Micros track_us) {
    const int64_t ts = av_rescale_q(track_us + origin_us, kMicrosTb, tb);
    av_seek_frame(input->format(), stream, ts, AVSEEK_FLAG_BACKWARD);
    avcodec_flush_buffers(dec);
    ResetResampler();
    eof = false;
  }

  // Next decoded and converted samples (interleaved) with the track time of the first;
  // false at the end or on an error (*error set for errors).
  bool Next(std::vector<float>* out, Micros* at_us, std::string* error) {
    for (;;) {
      int rc = avcodec_receive_frame(dec, frame);
      if (rc == 0) {
        const int64_t ts = frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp : frame->pts;
        *at_us = ts == AV_NOPTS_VALUE ? -1 : av_rescale_q(ts, tb, kMicrosTb) - origin_us;
        const int max_out = swr_get_out_samples(swr, frame->nb_samples);
        out->resize(static_cast<size_t>(std::max(0, max_out)) * channels);
        auto* dst = reinterpret_cast<uint8_t*>(out->data());
        const int n = swr_convert(swr, &dst, max_out, const_cast<const uint8_t**>(frame->extended_data), frame->nb_samples);
        av_frame_unref(frame);
        if (n < 0) {
          // A frame the resampler cannot take (the layout changed midway): start over.
          ResetResampler();
          continue;
        }
        out->resize(static_cast<size_t>(n) * channels);
        return true;
      }
      if (rc == AVERROR_EOF || eof) {
        eof = true;
        return false;
      }
      if (rc != AVERROR(EAGAIN)) {
        *error = "decoding the audio of " + input->source().Describe() + " failed: " + AvErrorText(rc);
        return false;
      }
      rc = av_read_frame(input->format(), packet);
      if (rc < 0) {
        if (rc != AVERROR_EOF && !input->LastIoError().empty()) *error = input->Describe(rc);
        avcodec_send_packet(dec, nullptr);
        eof = true;
        // Drain what the decoder still holds.
        if (avcodec_receive_frame(dec, frame) == 0) {
          av_frame_unref(frame);
        }
        return false;
      }
      if (packet->stream_index == stream) avcodec_send_packet(dec, packet);  // damaged packets are skipped
      av_packet_unref(packet);
    }
  }
};

// Faster or slower playback at the original pitch. Graders listen to answers at 1.5–2×;
// stepping through the samples would raise voices by the same factor (2× sounds an octave
// up) and make speech hard to follow, so off 1× the sound goes through FFmpeg's atempo.
// Used on the audio device's thread only: it holds no lock and does nothing but CPU work.
// The graph is kept while reads follow each other at one speed, so the filter's overlap
// carries across device callbacks; a seek, a jump or a new speed starts a fresh one.
struct TempoStretch {
  // Where a fresh graph starts reading, before the position asked for, so that the
  // filter's window is full of real sound by then. The output for the pre-roll is dropped.
  static constexpr int64_t kPrerollFrames = 4096;
  // atempo's delay in source frames: its output frame k sounds like source frame
  // first_fed + k * tempo - kDelayFrames. Measured with a tone that changes pitch at a
  // known time (tests/media/audio_tempo_test.cpp): the change is heard 1–7 ms from where
  // the clock puts it at 0.5×, 1.5×, 2× and 4×, so there is nothing to take off.
  static constexpr double kDelayFrames = 0.0;
  static constexpr int kFeedFrames = 512;
  // Output kept filtered ahead of the read, so a read that finds the worker holding the
  // buffer's lock still has sound to play.
  static constexpr int64_t kCushionFrames = 2048;

  AVFilterGraph* graph = nullptr;
  AVFilterContext* src = nullptr;
  AVFilterContext* sink = nullptr;
  AVFrame* frame = nullptr;
  double step = 0;
  double next_start = 0;  // source position the next contiguous read starts at
  int64_t fed = 0;        // next source frame to feed
  int64_t drop = 0;       // output frames still to discard (the pre-roll)
  std::vector<float> pending;  // filtered frames not played yet, interleaved
  std::vector<float> source;   // source frames copied out of the buffer for one read

  ~TempoStretch() { Close(); }

  void Close() {
    avfilter_graph_free(&graph);
    src = sink = nullptr;
    av_frame_free(&frame);
    pending.clear();
  }

  bool Contiguous(double start, double s) const {
    return graph && s == step && std::abs(start - next_start) <= 2.0;
  }

  // A fresh graph reading from source position `start` at `tempo`. False when FFmpeg
  // cannot make one (the caller plays silence).
  bool Open(double start, double tempo, int rate, int channels) {
    Close();
    graph = avfilter_graph_alloc();
    frame = av_frame_alloc();
    if (!graph || !frame) return false;
    char args[160];
    snprintf(args, sizeof args, "sample_rate=%d:sample_fmt=flt:channel_layout=%s:time_base=1/%d", rate,
             channels == 1 ? "mono" : "stereo", rate);
    AVFilterContext* tempo_ctx = nullptr;
    AVFilterContext* format_ctx = nullptr;
    char tempo_args[64];
    snprintf(tempo_args, sizeof tempo_args, "tempo=%.6f", tempo);
    char format_args[96];
    snprintf(format_args, sizeof format_args, "sample_fmts=flt:sample_rates=%d:channel_layouts=%s", rate,
             channels == 1 ? "mono" : "stereo");
    if (avfilter_graph_create_filter(&src, avfilter_get_by_name("abuffer"), "in", args, nullptr, graph) < 0 ||
        avfilter_graph_create_filter(&tempo_ctx, avfilter_get_by_name("atempo"), "tempo", tempo_args, nullptr, graph) < 0 ||
        avfilter_graph_create_filter(&format_ctx, avfilter_get_by_name("aformat"), "format", format_args, nullptr, graph) < 0 ||
        avfilter_graph_create_filter(&sink, avfilter_get_by_name("abuffersink"), "out", nullptr, nullptr, graph) < 0 ||
        avfilter_link(src, 0, tempo_ctx, 0) < 0 || avfilter_link(tempo_ctx, 0, format_ctx, 0) < 0 ||
        avfilter_link(format_ctx, 0, sink, 0) < 0 || avfilter_graph_config(graph, nullptr) < 0) {
      Close();
      return false;
    }
    step = tempo;
    next_start = start;
    fed = static_cast<int64_t>(std::floor(start)) - kPrerollFrames;
    drop = std::max<int64_t>(0, std::llround((start - static_cast<double>(fed) + kDelayFrames) / tempo));
    pending.clear();
    return true;
  }

  // Moves what the filter has ready into `pending`, minus the pre-roll.
  void Pull(int channels) {
    while (av_buffersink_get_frame(sink, frame) >= 0) {
      const auto* data = reinterpret_cast<const float*>(frame->extended_data[0]);
      const int64_t n = frame->nb_samples;
      const int64_t skip = std::min(drop, n);
      drop -= skip;
      pending.insert(pending.end(), data + skip * channels, data + n * channels);
      av_frame_unref(frame);
    }
  }

  // Feeds `count` frames of `samples` (interleaved). False on an FFmpeg error.
  bool Feed(const float* samples, int count, int rate, int channels) {
    frame->nb_samples = count;
    frame->format = AV_SAMPLE_FMT_FLT;
    frame->sample_rate = rate;
    av_channel_layout_default(&frame->ch_layout, channels);
    frame->pts = fed;
    if (av_frame_get_buffer(frame, 0) < 0) return false;
    std::copy(samples, samples + static_cast<size_t>(count) * channels, reinterpret_cast<float*>(frame->extended_data[0]));
    const int rc = av_buffersrc_add_frame(src, frame);  // takes the reference
    av_frame_unref(frame);
    fed += count;
    return rc >= 0;
  }
};

}  // namespace

struct AudioTrack::Impl {
  std::shared_ptr<ByteSource> source;
  Options options;
  mutable std::mutex mu;
  std::condition_variable wake;
  std::condition_variable changed;
  std::vector<float> buffer;  // interleaved, starting at sample index buffer_start
  int64_t buffer_start = 0;
  bool buffer_valid = false;
  bool eof = false;
  bool failed = false;
  bool has_audio = false;
  std::string error;
  std::atomic<int64_t> wanted{0};  // output sample index playback reads next
  bool stop = false;
  std::atomic<bool> abort{false};  // set when closing: blocking FFmpeg calls give up
  std::thread worker;
  TempoStretch stretch;  // the device thread's, off 1× only

  int ReadStretched(double start, double step, int frames, float* out);

  int64_t Index(double us) const { return static_cast<int64_t>(std::floor(us * options.sample_rate / 1e6)); }
  int64_t BufferEndLocked() const { return buffer_start + static_cast<int64_t>(buffer.size()) / options.channels; }

  void Run() {
    AudioDecoder d;
    bool no_audio = false;
    std::string why = d.Open(source, options.sample_rate, options.channels, &no_audio, &abort);
    {
      std::lock_guard lock(mu);
      if (!why.empty()) {
        failed = true;
        error = why;
      }
      has_audio = why.empty() && !no_audio;
      changed.notify_all();
      if (!has_audio) return;
    }
    const int64_t slack = options.sample_rate / 2;
    const int64_t ahead = Index(static_cast<double>(options.buffer_ahead_us));
    std::vector<float> chunk;
    std::unique_lock lock(mu);
    while (!stop) {
      const int64_t w = wanted.load();
      if (!buffer_valid || w < buffer_start || w > BufferEndLocked() + slack) {
        if (buffer_valid || w > 0 || d.eof) {
          lock.unlock();
          d.Seek(static_cast<Micros>(static_cast<double>(w) * 1e6 / options.sample_rate));
          lock.lock();
        }
        buffer.clear();
        buffer_valid = false;
        eof = false;
      } else if (eof || BufferEndLocked() - w >= ahead) {
        wake.wait_for(lock, std::chrono::milliseconds(20));
        continue;
      }
      lock.unlock();
      Micros at = -1;
      std::string err;
      const bool got = d.Next(&chunk, &at, &err);
      lock.lock();
      if (!got) {
        eof = true;
        if (!err.empty()) error = err;
        changed.notify_all();
        continue;
      }
      if (!buffer_valid) {
        buffer_start = at >= 0 ? Index(static_cast<double>(at)) : w;
        buffer_valid = true;
      }
      buffer.insert(buffer.end(), chunk.begin(), chunk.end());
      // Keep half a second behind the read position, for small backward corrections.
      const int64_t drop = std::min<int64_t>(w - slack - buffer_start, static_cast<int64_t>(buffer.size()) / options.channels);
      if (drop > 0) {
        buffer.erase(buffer.begin(), buffer.begin() + drop * options.channels);
        buffer_start += drop;
      }
      changed.notify_all();
    }
  }
};

AudioTrack::AudioTrack(std::shared_ptr<ByteSource> source, Options options) : impl_(std::make_unique<Impl>()) {
  impl_->source = std::move(source);
  impl_->options = options;
  impl_->options.channels = std::clamp(options.channels, 1, 2);
  impl_->worker = std::thread([this] { impl_->Run(); });
}

AudioTrack::~AudioTrack() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  // Not the source's Cancel(): the recording's pictures may be read through it still.
  impl_->abort.store(true);
  impl_->wake.notify_all();
  impl_->worker.join();
}

bool AudioTrack::failed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failed;
}

std::string AudioTrack::Error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->error;
}

bool AudioTrack::has_audio() const {
  std::lock_guard lock(impl_->mu);
  return impl_->has_audio;
}

int AudioTrack::Impl::ReadStretched(double start, double step, int frames, float* out) {
  const int ch = options.channels;
  const int rate = options.sample_rate;
  TempoStretch& st = stretch;
  if (!st.Contiguous(start, step) && !st.Open(start, step, rate, ch)) return 0;
  st.next_start = start + frames * step;
  auto have = [&] { return static_cast<int64_t>(st.pending.size()) / ch; };
  const int64_t target = frames + TempoStretch::kCushionFrames;
  if (have() < target) {
    // Copy the source the filter still needs (with room for its window) and let go of the
    // lock before filtering; the worker may hold it, then this read waits for nothing.
    const int64_t want = static_cast<int64_t>(std::ceil((target - have()) * step)) + 2 * TempoStretch::kPrerollFrames;
    int64_t got = 0;
    {
      std::unique_lock lock(mu, std::try_to_lock);
      if (lock.owns_lock() && buffer_valid) {
        // Before the buffer (the start of the recording, a pre-roll reaching back past a
        // seek) is silence; past its end is not decoded yet, and waits for a later read.
        const int64_t end = std::min(st.fed + want, BufferEndLocked());
        got = std::max<int64_t>(0, end - st.fed);
        st.source.assign(static_cast<size_t>(got) * ch, 0.0f);
        for (int64_t i = std::max(st.fed, buffer_start); i < end; ++i)
          std::copy_n(buffer.begin() + (i - buffer_start) * ch, ch, st.source.begin() + (i - st.fed) * ch);
      }
    }
    for (int64_t off = 0; off < got && have() < target; off += TempoStretch::kFeedFrames) {
      const int n = static_cast<int>(std::min<int64_t>(TempoStretch::kFeedFrames, got - off));
      if (!st.Feed(st.source.data() + off * ch, n, rate, ch)) {
        st.Close();
        return 0;
      }
      st.Pull(ch);
    }
  }
  const int real = static_cast<int>(std::min<int64_t>(frames, have()));
  std::copy_n(st.pending.begin(), static_cast<size_t>(real) * ch, out);
  st.pending.erase(st.pending.begin(), st.pending.begin() + static_cast<size_t>(real) * ch);
  // Short: the sound there is not decoded yet. The rest plays as silence and the next read
  // starts over where the clock is then, rather than late.
  if (real < frames) st.Close();
  return real;
}

int AudioTrack::ReadAt(double start_us, double step, int frames, float* out) {
  const int ch = impl_->options.channels;
  std::fill(out, out + static_cast<size_t>(frames) * ch, 0.0f);
  const double start = start_us * impl_->options.sample_rate / 1e6;
  impl_->wanted.store(static_cast<int64_t>(start + frames * step));
  if (step != 1.0) {
    const int real = impl_->ReadStretched(start, step, frames, out);
    impl_->wake.notify_one();
    return real;
  }
  if (impl_->stretch.graph) impl_->stretch.Close();
  int real = 0;
  std::unique_lock lock(impl_->mu, std::try_to_lock);  // the device thread never waits
  if (lock.owns_lock() && impl_->buffer_valid) {
    const int64_t n = static_cast<int64_t>(impl_->buffer.size()) / ch;
    for (int i = 0; i < frames; ++i) {
      const double pos = start + i * step - static_cast<double>(impl_->buffer_start);
      const auto j = static_cast<int64_t>(std::floor(pos));
      if (j < 0 || j + 1 >= n) continue;
      const auto frac = static_cast<float>(pos - static_cast<double>(j));
      for (int c = 0; c < ch; ++c) {
        const float a = impl_->buffer[static_cast<size_t>(j * ch + c)];
        const float b = impl_->buffer[static_cast<size_t>((j + 1) * ch + c)];
        out[static_cast<size_t>(i) * ch + c] = a + (b - a) * frac;
      }
      ++real;
    }
  }
  if (lock.owns_lock()) lock.unlock();
  impl_->wake.notify_one();
  return real;
}

void AudioTrack::Prefetch(Micros track_us) {
  impl_->wanted.store(impl_->Index(static_cast<double>(track_us)));
  impl_->wake.notify_one();
}

bool AudioTrack::WaitBuffered(Micros track_us, std::chrono::milliseconds timeout) {
  Prefetch(track_us);
  const int64_t idx = impl_->Index(static_cast<double>(track_us));
  std::unique_lock lock(impl_->mu);
  return impl_->changed.wait_for(lock, timeout, [&] {
    if (impl_->failed) return true;
    return impl_->buffer_valid && idx >= impl_->buffer_start && idx < impl_->BufferEndLocked();
  }) && !impl_->failed;
}

std::vector<float> DecodeAudioMono(std::shared_ptr<ByteSource> source, int sample_rate, Micros max_us, std::string* error) {
  AudioDecoder d;
  bool no_audio = false;
  std::string why = d.Open(source, sample_rate, 1, &no_audio);
  if (!why.empty() || no_audio) {
    if (error) *error = no_audio ? source->Describe() + " has no sound" : why;
    return {};
  }
  std::vector<float> all, chunk;
  const auto limit = static_cast<size_t>(static_cast<double>(max_us) * sample_rate / 1e6);
  Micros at = 0;
  std::string err;
  while (all.size() < limit && d.Next(&chunk, &at, &err)) {
    if (all.empty() && at > 0) all.assign(static_cast<size_t>(static_cast<double>(at) * sample_rate / 1e6), 0.0f);
    all.insert(all.end(), chunk.begin(), chunk.end());
  }
  if (!err.empty() && error) *error = err;
  if (all.size() > limit) all.resize(limit);
  return all;
}

}  // namespace exam::media

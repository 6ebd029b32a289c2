#include "media/playback_group.h"

#include <algorithm>
#include <thread>

namespace exam::media {

struct PlaybackGroup::Track {
  std::shared_ptr<ByteSource> source;
  core::TrackTimeline timeline;
  std::unique_ptr<TrackDecoder> decoder;
  std::unique_ptr<AudioTrack> audio;  // opened when its sound is first selected
  bool ranges_known = false;          // recorded ranges taken from the decoder's info
};

PlaybackGroup::PlaybackGroup(Options options) : options_(std::move(options)) {
  if (!options_.wall_clock) options_.wall_clock = [] { return std::chrono::steady_clock::now(); };
  anchor_wall_ = options_.wall_clock();
}

PlaybackGroup::~PlaybackGroup() {
  if (options_.audio_output) options_.audio_output->Stop();
}

int PlaybackGroup::AddTrack(std::shared_ptr<ByteSource> source, core::TrackPlacement placement) {
  auto t = std::make_unique<Track>();
  t->source = source;
  t->timeline = core::TrackTimeline(placement, options_.session_origin_utc_us);
  t->decoder = std::make_unique<TrackDecoder>(source, options_.decoder);
  std::lock_guard lock(mu_);
  t->decoder->SetPlayhead(core::SessionToTrack(placement, options_.session_origin_utc_us, NowLocked()));
  tracks_.push_back(std::move(t));
  return static_cast<int>(tracks_.size()) - 1;
}

int PlaybackGroup::track_count() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(tracks_.size());
}

TrackDecoder& PlaybackGroup::decoder(int track) {
  std::lock_guard lock(mu_);
  return *tracks_.at(static_cast<size_t>(track))->decoder;
}

AudioTrack& PlaybackGroup::audio(int track) {
  std::lock_guard lock(mu_);
  auto& t = *tracks_.at(static_cast<size_t>(track));
  if (!t.audio) {
    AudioTrack::Options o;
    if (options_.audio_output) {
      o.sample_rate = options_.audio_output->sample_rate();
      o.channels = options_.audio_output->channels();
    }
    t.audio = std::make_unique<AudioTrack>(t.source, o);
  }
  return *t.audio;
}

core::TrackTimeline PlaybackGroup::Timeline(int track) const {
  std::lock_guard lock(mu_);
  return tracks_.at(static_cast<size_t>(track))->timeline;
}

void PlaybackGroup::SetSkew(int track, Micros skew_us) {
  std::lock_guard lock(mu_);
  auto& t = *tracks_.at(static_cast<size_t>(track));
  t.timeline.SetSkew(skew_us);
  SeekLocked(NowLocked());  // the track's frame for now changed
}

void PlaybackGroup::SelectAudio(std::optional<int> track) {
  if (track) audio(*track);  // opens its sound
  bool start_output = false;
  {
    std::lock_guard lock(mu_);
    start_output = track && options_.audio_output && !output_started_;
  }
  if (start_output) {
    // Started outside the lock: the device may call Render (which takes it) at once.
    std::string error;
    const bool started = options_.audio_output->Start([this](float* out, int frames) { Render(out, frames); }, &error);
    std::lock_guard lock(mu_);
    output_started_ = started;
  }
  std::lock_guard lock(mu_);
  // Switch clocks without a jump: both continue from the current master time.
  const Micros now = NowLocked();
  audio_track_ = (options_.audio_output && output_started_) ? track : std::nullopt;
  anchor_session_us_ = now;
  anchor_wall_ = options_.wall_clock();
  audio_pos_us_ = static_cast<double>(now);
  ++serial_;
  if (audio_track_) {
    auto& t = *tracks_[static_cast<size_t>(*audio_track_)];
    t.audio->Prefetch(core::SessionToTrack(t.timeline.placement(), options_.session_origin_utc_us, now));
  }
}

std::optional<int> PlaybackGroup::selected_audio() const {
  std::lock_guard lock(mu_);
  return audio_track_;
}

bool PlaybackGroup::audio_clock() const {
  std::lock_guard lock(mu_);
  return audio_track_.has_value();
}

Micros PlaybackGroup::NowLocked() const {
  if (!playing_) return anchor_session_us_;
  if (audio_track_) {
    // What is heard now left the renderer `latency` ago.
    const double latency = static_cast<double>(options_.audio_output->latency_us()) * rate_;
    return static_cast<Micros>(std::max(static_cast<double>(anchor_session_us_), audio_pos_us_ - latency));
  }
  const auto elapsed = std::chrono::duration<double, std::micro>(options_.wall_clock() - anchor_wall_).count();
  return anchor_session_us_ + static_cast<Micros>(elapsed * rate_);
}

Micros PlaybackGroup::Now() const {
  std::lock_guard lock(mu_);
  return NowLocked();
}

void PlaybackGroup::Render(float* out, int frames) {
  const int channels = options_.audio_output->channels();
  const double sr = options_.audio_output->sample_rate();
  std::unique_lock lock(mu_);
  if (!playing_ || !audio_track_) {
    std::fill(out, out + static_cast<size_t>(frames) * channels, 0.0f);
    return;
  }
  Track& t = *tracks_[static_cast<size_t>(*audio_track_)];
  const double start = audio_pos_us_;
  const double rate = rate_;
  const uint64_t serial = serial_;
  const Micros shift = core::TrackStartInSession(t.timeline.placement(), options_.session_origin_utc_us);
  AudioTrack* audio = t.audio.get();
  lock.unlock();
  // Off 1× the track time-stretches the sound (atempo), so voices keep their pitch.
  audio->ReadAt(start - static_cast<double>(shift), rate, frames, out);
  lock.lock();
  if (serial == serial_) audio_pos_us_ = start + frames * rate * 1e6 / sr;
}

void PlaybackGroup::Play() {
  std::lock_guard lock(mu_);
  if (playing_) return;
  anchor_wall_ = options_.wall_clock();
  audio_pos_us_ = static_cast<double>(anchor_session_us_);
  ++serial_;
  playing_ = true;
}

void PlaybackGroup::Pause() {
  std::lock_guard lock(mu_);
  if (!playing_) return;
  anchor_session_us_ = NowLocked();
  playing_ = false;
  ++serial_;
}

bool PlaybackGroup::playing() const {
  std::lock_guard lock(mu_);
  return playing_;
}

void PlaybackGroup::SetRate(double rate) {
  std::lock_guard lock(mu_);
  rate = std::clamp(rate, 0.5, 4.0);
  if (rate == rate_) return;
  const Micros now = NowLocked();
  anchor_session_us_ = now;
  anchor_wall_ = options_.wall_clock();
  if (playing_ && audio_track_) {
    // The audio clock carries on from where it is; only its pace changes.
  } else {
    audio_pos_us_ = static_cast<double>(now);
  }
  rate_ = rate;
}

double PlaybackGroup::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

void PlaybackGroup::SeekLocked(Micros session_us) {
  anchor_session_us_ = session_us;
  anchor_wall_ = options_.wall_clock();
  audio_pos_us_ = static_cast<double>(session_us);
  ++serial_;
  pending_step_ = 0;
  for (auto& t : tracks_) {
    const Micros track_us = core::SessionToTrack(t->timeline.placement(), options_.session_origin_utc_us, session_us);
    t->decoder->SetPlayhead(track_us);
    if (t->audio) t->audio->Prefetch(track_us);
  }
}

void PlaybackGroup::Seek(Micros session_us) {
  std::lock_guard lock(mu_);
  SeekLocked(session_us);
}

int PlaybackGroup::ReferenceTrackLocked(Micros now) const {
  auto has_pictures = [&](int i) {
    const auto& t = *tracks_[static_cast<size_t>(i)];
    return t.decoder->State() == TrackState::kReady && t.decoder->Info().has_video && t.timeline.At(now).recorded;
  };
  if (audio_track_ && has_pictures(*audio_track_)) return *audio_track_;
  for (int i = 0; i < static_cast<int>(tracks_.size()); ++i)
    if (has_pictures(i)) return i;
  return -1;
}

bool PlaybackGroup::StepLocked(int direction) {
  const Micros now = NowLocked();
  const int ref = ReferenceTrackLocked(now);
  if (ref < 0) return false;
  const auto& t = *tracks_[static_cast<size_t>(ref)];
  const auto& placement = t.timeline.placement();
  const Micros track_us = core::SessionToTrack(placement, options_.session_origin_utc_us, now);
  const auto to = direction > 0 ? t.decoder->NextFrameTime(track_us) : t.decoder->PreviousFrameTime(track_us);
  if (!to) {
    // At the track's end there is nothing to wait for; otherwise the frame is on its way.
    const bool at_end = direction > 0 ? t.decoder->IsLastFrame(track_us) : t.decoder->IsFirstFrame(track_us);
    pending_step_ = at_end ? 0 : direction;
    return false;
  }
  SeekLocked(core::TrackToSession(placement, options_.session_origin_utc_us, *to));
  return true;
}

bool PlaybackGroup::StepForward() {
  std::lock_guard lock(mu_);
  anchor_session_us_ = NowLocked();
  playing_ = false;
  return StepLocked(+1);
}

bool PlaybackGroup::StepBackward() {
  std::lock_guard lock(mu_);
  anchor_session_us_ = NowLocked();
  playing_ = false;
  return StepLocked(-1);
}

PresentedFrame PlaybackGroup::Present(int track) {
  std::lock_guard lock(mu_);
  if (pending_step_ != 0) StepLocked(pending_step_);
  auto& t = *tracks_.at(static_cast<size_t>(track));
  PresentedFrame p;
  p.state = t.decoder->State();
  p.error = t.decoder->Error();
  if (p.state == TrackState::kReady && !t.ranges_known) {
    const TrackInfo info = t.decoder->Info();
    // The container's duration is the recording's extent (the timeline draws its end).
    if (info.duration_us > 0) {
      auto placement = t.timeline.placement();
      placement.duration_us = info.duration_us;
      t.timeline = core::TrackTimeline(placement, options_.session_origin_utc_us);
    }
    t.ranges_known = true;
  }
  if (p.state == TrackState::kReady) {
    const TrackInfo info = t.decoder->Info();
    p.rotation_degrees = info.rotation_degrees;
    p.has_video = info.has_video;
  }
  const Micros now = NowLocked();
  const core::TrackCoverage c = t.timeline.At(now);
  p.recorded = c.recorded;
  p.next_recorded_us = c.next_recorded_us;
  p.track_us = core::SessionToTrack(t.timeline.placement(), options_.session_origin_utc_us, now);
  if (!c.recorded || p.state != TrackState::kReady || !p.has_video) return p;
  t.decoder->SetPlayhead(p.track_us);
  if (const auto end = t.decoder->DecodableEnd(); end && p.track_us >= *end) p.past_end = true;
  if (auto f = t.decoder->FrameAt(p.track_us)) {
    p.frame = std::move(f);
    p.exact = true;
  } else {
    p.frame = t.decoder->LatestAtOrBefore(p.track_us);
  }
  return p;
}

std::vector<PresentedFrame> PlaybackGroup::PresentAll() {
  std::vector<PresentedFrame> out;
  const int n = track_count();
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(Present(i));
  return out;
}

bool PlaybackGroup::Settled() {
  for (const auto& p : PresentAll()) {
    if (p.state == TrackState::kFailed || (p.state == TrackState::kReady && !p.has_video)) continue;
    if (p.state == TrackState::kOpening) return false;
    // A recording that ends early (truncated) has nothing to show past its end.
    if (p.recorded && !p.exact && !p.past_end) return false;
  }
  return true;
}

bool PlaybackGroup::WaitSettled(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Settled()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace exam::media

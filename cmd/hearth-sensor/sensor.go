package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"hearth/internal/sensors/sim"
)

// sensor is the running program: the generator feeding the publisher.
type sensor struct {
	cfg sensorConfig
	log *slog.Logger
	pub *sim.Publisher
}

func newSensor(cfg sensorConfig, log *slog.Logger) (*sensor, error) {
	cfg.pub.Log = log
	pub, err := sim.New(cfg.pub)
	if err != nil {
		return nil, err
	}
	return &sensor{cfg: cfg, log: log, pub: pub}, nil
}

// Run generates and publishes readings until ctx ends or the publisher has delivered
// its count; the buffer file is saved before it returns.
func (s *sensor) Run(ctx context.Context) error {
	gcfg := s.cfg.gen
	gcfg.Start = time.Now()
	if gcfg.Interval == 0 {
		gcfg.Interval = sim.DefaultInterval(gcfg.Model)
	}
	gen, err := sim.NewGenerator(gcfg)
	if err != nil {
		return err
	}
	s.log.Info("sensor started", "sensor", s.cfg.pub.ID, "model", gcfg.Model.ID, "broker", s.cfg.pub.Broker, "interval", gcfg.Interval)
	// The generator stops first and the publisher after it, so no reading taken
	// before the stop misses the buffer file.
	playCtx, stopPlay := context.WithCancel(ctx)
	defer stopPlay()
	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPub()
	var wg sync.WaitGroup
	wg.Go(func() {
		sim.Play(playCtx, gen, s.pub.Add)
		stopPub()
	})
	err = s.pub.Run(pubCtx)
	stopPlay()
	wg.Wait()
	st := s.pub.Stats()
	s.log.Info("sensor stopped", "acknowledged", st.Acked, "buffered", st.Buffered, "dropped", st.Dropped)
	return err
}
